// The shape of a Llama-style decoder, as genrm's engine sees it. Checkpoints map it one to one
// onto Hugging Face's LlamaForCausalLM config.json keys (noted beside each field).
export interface ModelConfig {
  /** Tokens in the vocabulary. HF: vocab_size */
  vocabSize: number;
  /** Width of the residual stream. HF: hidden_size */
  dModel: number;
  /** Decoder blocks. HF: num_hidden_layers */
  nLayers: number;
  /** Query heads; headDim = dModel / nHeads. HF: num_attention_heads */
  nHeads: number;
  /** Key/value heads (grouped-query attention; = nHeads for plain MHA). HF: num_key_value_heads */
  nKvHeads: number;
  /** SwiGLU hidden width. HF: intermediate_size */
  ffnHidden: number;
  /** Longest sequence (RoPE tables and KV caches are sized by it). HF: max_position_embeddings */
  maxSeqLen: number;
  /** RoPE base. HF: rope_theta */
  ropeTheta: number;
  /** RMSNorm epsilon. HF: rms_norm_eps */
  normEps: number;
  /** Output head shares the embedding matrix. HF: tie_word_embeddings */
  tieEmbeddings: boolean;
  /** q/k/v projections carry a bias (Qwen2). Absent = false (Llama). HF: attention_bias / Qwen2ForCausalLM */
  attentionBias?: boolean;
  /** RoPE frequency scaling (Llama 3.1+). Absent = none. HF: rope_scaling */
  ropeScaling?: RopeScaling;
}

/** HF rope_scaling of type "linear" or "llama3" (the only ones genrm computes). */
export type RopeScaling =
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositionEmbeddings: number };
