// Hugging Face safetensors files: the one import path for the rest of the project.
// Format: u64 LE header length N, N bytes of JSON header, then the tensor data.
export type { SafetensorsDtype, SafetensorsHeader, SafetensorsHeaderEntry } from './safetensors-header';
export { READABLE_DTYPES, readSafetensorsHeader } from './safetensors-header';
export type { TensorData } from './safetensors-read';
export { readSafetensors } from './safetensors-read';
export type { WritableDtype, WriteSafetensorsOptions } from './safetensors-write';
export { storedBytes, writeSafetensors } from './safetensors-write';
