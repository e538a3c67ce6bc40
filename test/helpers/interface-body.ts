/** The web interface's request body, as its frontend sends it (pyreflect-interface GenerateRequest): a test fixture. */
export const INTERFACE_BODY = {
  layers: [
    { name: 'substrate', sld: 2.07, isld: 0, thickness: 0, roughness: 1.8 },
    { name: 'siox', sld: 3.47, isld: 0, thickness: 12, roughness: 2 },
    { name: 'layer 1', sld: 4.5, isld: 0, thickness: 150, roughness: 10 },
    { name: 'air', sld: 0, isld: 0, thickness: 0, roughness: 0 },
  ],
  generator: { numCurves: 1000, numFilmLayers: 1, layerBound: [{ i: 2, par: 'thickness', bounds: [100, 200] }] },
  training: { batchSize: 32, epochs: 10, layers: 12, dropout: 0, latentDim: 16, aeEpochs: 50, mlpEpochs: 50 },
  name: 'my run',
  saveTrainingData: true,
  dataSource: 'synthetic',
  workflow: 'nr_sld',
  mode: 'train',
  autoGenerateModelStats: true,
  gpu: 'T4',
};
