// genrm's compact chat form (docs/ARCHITECTURE.md, Contracts: one "role: content" line per message, then the
// "assistant: " cue) as a Jinja chat template, the way Hugging Face and llama.cpp carry a model's
// chat format: written into exported tokenizer_config.json and GGUF `tokenizer.chat_template`, so
// a loader that renders the file's template writes exactly what the embedded backend writes
// (src/backends/embedded/render.ts renderChat, after the BOS). test/engine/tokenizer/chatTemplate.test.ts
// holds the two to the same text.
export const COMPACT_CHAT_TEMPLATE =
  "{{ bos_token }}{% for message in messages %}{% if not loop.first %}{{ '\\n' }}{% endif %}" +
  "{{ message['role'] + ': ' + message['content'] }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '\\nassistant: ' }}{% endif %}";
