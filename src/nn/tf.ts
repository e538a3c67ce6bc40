/**
 * The one place reflectkit imports TensorFlow.js: tfjs-core (tensors, ops, kernels) and tfjs-layers
 * (layers and models; importing it also registers every op's gradient). Backends are imported lazily
 * by `backend.ts`.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

export { tf, tfl };
