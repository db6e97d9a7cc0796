// A chat template (Jinja, as transformers' apply_chat_template and llama.cpp read it) compiled
// once by @huggingface/jinja and rendered with the variables those loaders pass: messages,
// add_generation_prompt, bos_token, eos_token. Shared by Hugging Face folders (./tokenizer.ts)
// and GGUF files (src/backends/gguf), so both render a model's own template the same way.
import { Template } from '@huggingface/jinja';

export interface ChatTurn {
  role: string;
  content: string;
}

export interface ChatTemplateVars {
  bosToken: string;
  eosToken: string;
  /** End with the cue where the assistant's reply begins. Default true (a prompt to continue). */
  addGenerationPrompt?: boolean;
}

export type RenderChat = (messages: readonly ChatTurn[], vars: ChatTemplateVars) => string;

/** Compiles a template; a parse error names `where` (the file and field it came from). */
export function compileChatTemplate(src: string, where: string): RenderChat {
  let t: Template;
  try {
    t = new Template(src);
  } catch (e) {
    throw new Error(`${where}: the chat template does not parse (${(e as Error).message})`);
  }
  return (messages, v) =>
    t.render({ messages, add_generation_prompt: v.addGenerationPrompt ?? true, bos_token: v.bosToken, eos_token: v.eosToken });
}
