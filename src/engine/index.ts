/** Public API of the embedded engine: config, model, LoRA, sampler, optimizer, tokenizers, checkpoints, BLAS. */
export * from "./config.js";
export * from "./model-api.js";
export * from "./model.js";
export * from "./sampler.js";
export * from "./optim.js";
export * from "./safetensors.js";
export * from "./checkpoint.js";
export * from "./tokenizer.js";
export * from "./tokenizer-build.js";
export * from "./chat-template.js";
export * from "./text-model.js";
export * from "./gemm.js";
export * from "./gemm-types.js";
export * from "./blas.js";
