/** 4π·10⁻⁶: converts SLD in 10⁻⁶ Å⁻² to the k² term in Å⁻² (refl1d's `PI4`). */
export const PI4 = 12.566370614359172e-6;
/** |kz| below this gives r = −1 (refl1d's cutoff, Å⁻¹). */
export const KZ_CUTOFF = 1e-10;
/** Offset added to |irho| so the square root always takes the decaying branch (refl1d). */
export const IRHO_OFFSET = 1e-30;
/** √2 as refl1d writes it. */
export const SQRT2 = 1.41421356237309504880;
/** √(2π) as refl1d writes it. */
export const SQRT2PI = 2.50662827463100050241;
/** ln(0.001): the Gaussian resolution window ends where the kernel falls to 0.1 % of its peak. */
export const LOG_RESLIMIT = -6.90775527898213703123;
/** 1/√2 computed as numpy does (`1/np.sqrt(2)`), one ulp from `Math.SQRT1_2`; refl1d's profile uses it. */
export const SQRT1_2_NUMPY = 1 / Math.sqrt(2);
/** pyreflect's FWHM→σ divisor: `dq = qResolution·q/2.355`. */
export const FWHM_TO_SIGMA_DIVISOR = 2.355;
/** pyreflect's default relative Q resolution (FWHM, dQ/Q). */
export const DEFAULT_Q_RESOLUTION = 0.0294855;
/** Step of refl1d's smooth profile grid, Å. */
export const PROFILE_DZ = 0.1;
