// The capability taxonomy (shared/reference/capabilities.md). Models register at leaves; a pool targets
// any node and contains every model registered at or below it. Names resolve by full dotted path or by a
// leaf name that is unique in the tree.
import { ConfigError } from '../config/errors.ts';

/** category -> subcategory -> leaves ([] = the subcategory is itself a leaf). */
const TAXONOMY: Record<string, Record<string, string[]>> = {
  generation: {
    'text-generation': ['chat-completion', 'text-completion', 'code-generation'],
    'structured-generation': ['json-generation', 'schema-constrained-output', 'function-call-generation'],
    'image-generation': ['text-to-image', 'image-to-image', 'inpainting'],
    'audio-generation': ['text-to-speech', 'music-generation'],
    'video-generation': ['text-to-video', 'image-to-video'],
  },
  understanding: {
    'text-understanding': ['summarization', 'classification', 'sentiment-analysis', 'entity-extraction'],
    'vision-understanding': ['image-captioning', 'object-detection', 'ocr'],
    'audio-understanding': ['speech-to-text', 'speaker-identification', 'audio-classification'],
    'document-understanding': ['document-parsing', 'table-extraction', 'form-extraction'],
  },
  transformation: {
    translation: [],
    rewriting: [],
    'style-transfer': [],
    'image-editing': ['background-removal', 'upscaling', 'format-conversion'],
    'audio-processing': ['noise-reduction', 'voice-cloning', 'audio-separation'],
  },
  representation: {
    embeddings: ['text-embeddings', 'image-embeddings', 'multimodal-embeddings'],
    tokenization: [],
    'feature-extraction': [],
  },
  retrieval: {
    search: ['semantic-search', 'web-search', 'image-search', 'code-search'],
    'knowledge-graph': ['graph-query', 'entity-linking', 'relation-extraction'],
    rag: ['retrieval-augmented-generation', 'grounded-generation'],
    reranking: [],
  },
  interaction: {
    'tool-calling': [],
    'agent-execution': ['single-step-agent', 'multi-step-agent'],
    'multi-turn-conversation': [],
  },
  evaluation: {
    'content-moderation': [],
    'toxicity-detection': [],
    'factuality-checking': [],
    'quality-scoring': [],
  },
};

/** Predefined pools: they exist with no config (capabilities.md). */
export const PREDEFINED_POOLS: Readonly<Record<string, string>> = {
  'text-generation': 'generation.text-generation',
  'structured-generation': 'generation.structured-generation',
  'image-generation': 'generation.image-generation',
  embeddings: 'representation.embeddings',
  'speech-to-text': 'understanding.audio-understanding.speech-to-text',
  'text-to-speech': 'generation.audio-generation.text-to-speech',
  'vision-understanding': 'understanding.vision-understanding',
};

export class CapabilityTree {
  /** Every node by full path; the value is true for a leaf. */
  readonly #nodes = new Map<string, boolean>();
  /** Last segment -> full paths carrying it. */
  readonly #byName = new Map<string, string[]>();

  constructor(custom: readonly string[] = []) {
    for (const [category, subs] of Object.entries(TAXONOMY)) {
      for (const [sub, leaves] of Object.entries(subs)) {
        if (leaves.length === 0) this.#add(`${category}.${sub}`);
        for (const leaf of leaves) this.#add(`${category}.${sub}.${leaf}`);
      }
    }
    for (const path of custom) this.#add(path);
  }

  /** Add a node and its ancestors; a node that gains a child stops being a leaf. */
  #add(path: string): void {
    const parts = path.split('.');
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('.');
      const isLeaf = i === parts.length;
      const known = this.#nodes.get(p);
      if (known === undefined) {
        this.#nodes.set(p, isLeaf);
        const name = parts[i - 1] as string;
        this.#byName.set(name, [...(this.#byName.get(name) ?? []), p]);
      } else if (!isLeaf && known) {
        this.#nodes.set(p, false);
      }
    }
  }

  has(path: string): boolean {
    return this.#nodes.has(path);
  }

  isLeaf(path: string): boolean {
    return this.#nodes.get(path) === true;
  }

  /** All node paths (for listings and suggestions). */
  paths(): string[] {
    return [...this.#nodes.keys()];
  }

  /** Resolve a full path or a unique node name; unknown or ambiguous names are config errors with candidates. */
  resolve(name: string, path: string): string {
    if (this.#nodes.has(name)) return name;
    const matches = this.#byName.get(name) ?? [];
    if (matches.length === 1) return matches[0] as string;
    if (matches.length > 1) {
      throw new ConfigError(`${path}: capability "${name}" is ambiguous, use one of: ${matches.join(', ')}`, { path });
    }
    const close = this.paths().filter((p) => p.includes(name) || name.includes(p.split('.').pop() as string)).slice(0, 5);
    const hint = close.length > 0 ? `; candidates: ${close.join(', ')}` : '; see the capability tree in the README';
    throw new ConfigError(`${path}: unknown capability "${name}"${hint}`, { path });
  }

  /** True when `path` is `node` or below it. */
  static within(path: string, node: string): boolean {
    // No `node + '.'`: this runs per pool member and capability on every request (issue 16).
    return path === node || (path.length > node.length && path.charCodeAt(node.length) === 46 /* . */ && path.startsWith(node));
  }
}
