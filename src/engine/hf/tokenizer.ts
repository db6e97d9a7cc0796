// A real model's tokenizer.json (byte-level BPE as in Llama 3 / Qwen2, or SentencePiece-style
// BPE with byte fallback as in Llama 2) through @huggingface/tokenizers, a maintained pure-JS
// implementation of the Rust `tokenizers` pipeline (normalizer, pre-tokenizer, model, decoder,
// added tokens), plus the chat template of tokenizer_config.json rendered by @huggingface/jinja
// (the Jinja subset transformers' apply_chat_template uses).
//
// genrm's own Tokenizer (../tokenizer/) stays the one its models train with; this one is for
// checkpoints that arrive from outside.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer as HfTok } from '@huggingface/tokenizers';
import { compileChatTemplate, type ChatTurn, type RenderChat } from './chatTemplate.js';

export type { ChatTurn } from './chatTemplate.js';

function readJsonFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('expected a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${path}: not a valid JSON object (${(e as Error).message})`);
  }
}

/** tokenizer_config.json writes a special token as its text or as an AddedToken object. */
function tokenText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string')
    return (v as { content: string }).content;
  return null;
}

export class HfTokenizer {
  private readonly tok: HfTok;
  private readonly template: RenderChat | null;
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  /** Highest id + 1 (vocab and added tokens); a model's vocab_size may be larger (padded rows). */
  readonly vocabSize: number;

  constructor(
    readonly json: Record<string, unknown>,
    readonly config: Record<string, unknown> = {},
    file = 'tokenizer.json',
  ) {
    try {
      this.tok = new HfTok(json, config);
    } catch (e) {
      throw new Error(`${file}: @huggingface/tokenizers cannot build it (${(e as Error).message})`);
    }
    this.bosToken = tokenText(config.bos_token);
    this.eosToken = tokenText(config.eos_token);
    let max = -1;
    for (const id of this.tok.get_vocab(true).values()) if (id > max) max = id;
    this.vocabSize = max + 1;
    const ct = config.chat_template;
    // A list of named templates is allowed by transformers; genrm uses the "default" one.
    const src =
      typeof ct === 'string'
        ? ct
        : Array.isArray(ct)
          ? (ct as Array<{ name?: unknown; template?: unknown }>).find((t) => t.name === 'default')?.template
          : undefined;
    this.template = typeof src === 'string' ? compileChatTemplate(src, 'tokenizer_config.json "chat_template"') : null;
  }

  /** tokenizer.json (required) and tokenizer_config.json (optional: specials, chat template) of a folder. */
  static load(dir: string): HfTokenizer {
    const file = join(dir, 'tokenizer.json');
    const json = readJsonFile(file);
    let config: Record<string, unknown> = {};
    try {
      config = readJsonFile(join(dir, 'tokenizer_config.json'));
    } catch (e) {
      if (!/cannot read \(ENOENT\)/.test((e as Error).message)) throw e;
    }
    return new HfTokenizer(json, config, file);
  }

  /**
   * Token ids of a text. Special-token text in it becomes the special token (as HF does);
   * `addSpecialTokens` applies the file's post-processor (e.g. a BOS), default false since chat
   * templates already write their specials.
   */
  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    return this.tok.encode(text, { add_special_tokens: opts.addSpecialTokens ?? false }).ids;
  }

  decode(ids: readonly number[], opts: { skipSpecials?: boolean } = {}): string {
    return this.tok.decode([...ids], { skip_special_tokens: opts.skipSpecials ?? false, clean_up_tokenization_spaces: false });
  }

  tokenToId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.tok.id_to_token(id);
  }

  get hasChatTemplate(): boolean {
    return this.template !== null;
  }

  /** The chat template applied to messages, as transformers' apply_chat_template(tokenize=False). */
  applyChatTemplate(messages: readonly ChatTurn[], opts: { addGenerationPrompt?: boolean } = {}): string {
    if (this.template === null)
      throw new Error('tokenizer_config.json has no "chat_template"; render the prompt yourself or use a model with one');
    return this.template(messages, {
      addGenerationPrompt: opts.addGenerationPrompt ?? true,
      bosToken: this.bosToken ?? '',
      eosToken: this.eosToken ?? '',
    });
  }
}
