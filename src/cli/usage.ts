/**
 * The CLI's help texts and its two kinds of failure: a UsageError (exit 2: the command line is
 * wrong, the message says what to type instead) and an InputError (exit 1: an input file's
 * content is not what its kind needs, the message names the file and line).
 */

export const COMMANDS = ['embed', 'rerank', 'index', 'cache'] as const;
export type Command = (typeof COMMANDS)[number];

/** The command line is wrong: exit 2, with the message and a pointer to --help. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: Command,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** An input file's content cannot be read as its kind (a bad JSON line, no text field, ...): exit 1. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

const INPUTS = `Inputs (files, or - for stdin):
  .txt            one text per non-empty line (--paragraphs: texts split on blank lines)
  .jsonl          one JSON object per line: its "text" (--text-field) and optional "id" (--id-field);
                  other fields become metadata
  .json           an array of strings or of such objects
  .md .markdown   one text per paragraph (--sections: per heading section), markdown syntax
                  stripped (headings, emphasis, links' URLs, code fences); the heading is kept as metadata
  -               stdin, read as .txt (or as --input-format says)
  Ids default to <file>#<n> (n counts the texts of a file from 1; stdin is "stdin").`;

const MODEL = `  -m, --model <m>          a model folder (a local path, file:// or http(s):// URL), a hub id
                           (Xenova/multilingual-e5-small, @revision for a branch, tag or commit) or a preset id
      --preset <id>        a preset (multilingual-e5-small, qwen3-embedding-0.6b, …): its hub files and facts
      --dtype <d>          fp32 | fp16 | q8 | int8 | uint8 | q4 | q4f16 | bnb4 | q2 | q2f16: which onnx/model*.onnx
                           (default: the engine's choice for the CPU, q8 where there is one)
      --device <d>         cpu (default): onnxruntime-node where it is installed (npm i onnxruntime-node),
                           else onnxruntime-web's wasm build | wasm: always onnxruntime-web's wasm (a page's own path)
      --hub <url|folder>   where hub ids' files come from (default https://huggingface.co): a mirror's URL, or a
                           local folder laid out as the hub (<owner>/<name>/resolve/<revision>/<file>)
      --revision <rev>     the hub id's or preset's branch, tag or commit (default main, or the preset's pin)
      --cache-dir <dir>    where downloaded model files are kept between runs (default
                           $WEBGPU_EMBED_CACHE/models, else ~/.cache/webgpu-embed/models), checked as the
                           browser's cache checks them (a SHA-256 per chunk, presets' pinned hashes)
      --no-cache           download every time, keep nothing`;

const READ = `      --input-format <f>   read every input as txt | jsonl | json | md, whatever its extension
      --paragraphs         .txt: one text per blank-line-separated paragraph
      --sections           .md: one text per heading section instead of per paragraph
      --text-field <name>  .jsonl/.json: the field holding the text (default "text")
      --id-field <name>    .jsonl/.json: the field holding the id (default "id")
  -q, --quiet              no progress on stderr
  -h, --help               this help`;

export const HELP: Record<Command | 'main', string> = {
  main: `webgpu-embed — text embeddings, reranking and search indexes with the same engine and model
files as the browser library, in-process: on onnxruntime-node where it is installed (native, the
fastest on a CPU), else onnxruntime-web's wasm build; the vectors match the page's either way.
--model takes a folder, a hub id or a preset id (or --preset <id>); downloads are cached on disk.

Usage:
  webgpu-embed embed  --model <m> [options] <inputs...>       JSONL of {id, text, embedding}, or .npy / .fvecs
  webgpu-embed rerank --model <m> --query <q> [options] <inputs...>  JSONL of {index, id, score, text}, best first
  webgpu-embed index  --model <m> -o site.wgei [options] <inputs...> an index blob for createIndex().import()
  webgpu-embed cache  list | clear [<model>]                  the disk cache of downloaded model files

Run 'webgpu-embed <command> --help' for a command's options.
Exit status: 0 done, 1 an error while running (its message says which), 2 a wrong command line.`,

  embed: `Usage: webgpu-embed embed --model <m> [options] <inputs...>

Embeds every text and writes one JSON line per text: {"id", "text", "metadata"?, "embedding": [...]},
or a float32 matrix (--format npy | fvecs). The vectors are what embed() gives in a page with the
same model files, task and dimensions (on onnxruntime-node: within 1e-6 of them).

${MODEL}
      --task <t>           query | document (default document): the model's prompt
      --instruction <s>    the task description for instruction-aware models (queries)
      --dimensions <n>     Matryoshka output size (any size the model allows)
      --long-text <how>    truncate (default) | chunk: a text past the model's maximum
      --format <f>         jsonl (default) | npy (numpy.load: float32 [texts, dimensions]) | fvecs (FAISS' tools);
                           npy and fvecs need -o, and write the rows' ids to <file>.ids.jsonl beside it
      --no-text            leave the texts out of the output (jsonl, and npy/fvecs' ids file)
  -o, --output <file>      write there instead of stdout
${READ}

${INPUTS}

Example:
  webgpu-embed embed --preset multilingual-e5-small docs/*.md -o embeddings.jsonl
  webgpu-embed embed --model Xenova/all-MiniLM-L6-v2 --format npy -o vectors.npy --no-text corpus.jsonl`,

  rerank: `Usage: webgpu-embed rerank --model <m> --query <q> [options] <inputs...>

Scores every text against the query with a reranker model and writes them best first, one JSON
line each: {"index", "id", "score", "text"} (index: the text's place among all inputs, from 0).

${MODEL}
      --query <q>          the query (required)
      --instruction <s>    yes/no rerankers: the task description
      --top-k <n>          only the n best (default: all)
      --no-text            leave the texts out of the output
  -o, --output <file>      write there instead of stdout
${READ}

${INPUTS}

Example:
  webgpu-embed rerank --model ./models/qwen3-reranker-0.6b --query "how do I bake bread?" --top-k 5 faq.jsonl`,

  index: `Usage: webgpu-embed index --model <m> -o site.wgei [options] <inputs...>

Builds a search index (createIndex: texts split into passages that fit the model, embedded as
documents) and writes its export() blob, the "WGEI" format. A page loads it with
  const index = await createIndex({ embedder, dimensions }); await index.import(await (await fetch('site.wgei')).arrayBuffer());
where the embedder uses the same model (and the index the same --dimensions).

${MODEL}
      --dimensions <n>     Matryoshka output size (default: the model's full width)
      --storage <s>        f32 | int8 | binary: the storage of the index built here (the blob always
                           carries full-precision vectors: the page picks its own storage on import)
      --passage-tokens <n> the most tokens per passage (default: 256, or the model's maximum if smaller)
      --format <f>         wgei (default) | jsonl: one line per passage {id, passage, start, end, text, metadata?, embedding}
      --no-text            jsonl: leave the passages' texts out
  -o, --output <file>      where to write (required for wgei; jsonl goes to stdout without it)
${READ}

${INPUTS}

Example:
  webgpu-embed index --model ./models/multilingual-e5-small --dimensions 256 -o public/site.wgei content/*.md`,

  cache: `Usage: webgpu-embed cache list | clear [<model>] [--cache-dir <dir>] [--hub <url|folder>]

The disk cache of model files the other commands downloaded (--cache-dir, default
$WEBGPU_EMBED_CACHE/models, else ~/.cache/webgpu-embed/models).

  list                     one line per model folder, most recently used first: its URL, size,
                           complete files and when a command last used it
  clear [<model>]          delete one model's files (a folder URL, a hub id, a preset id), or all
      --cache-dir <dir>    the cache folder
      --hub <url|folder>   where the hub id's files came from (as given to embed --hub)
  -q, --quiet              no summary line on stderr
  -h, --help               this help

Example:
  webgpu-embed cache list
  webgpu-embed cache clear Xenova/all-MiniLM-L6-v2`,
};
