/**
 * Where the commands write: JSON lines or bytes to a file (-o) or to stdout, with backpressure,
 * and progress lines on stderr (redrawn in place on a terminal, a line every second otherwise).
 * A closed stdout (`| head`) ends the output quietly instead of failing the command.
 */
import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';

/** The streams a command runs against: the process's own, or a test's. */
export interface CliIO {
  stdin?: AsyncIterable<unknown>;
  stdout: Writable;
  stderr: Writable;
  cwd?: string;
}

export interface Output {
  write(chunk: string | Uint8Array): Promise<void>;
  /** stdout was closed by its reader: nothing more is wanted */
  readonly closed: boolean;
  /** flushes and closes a file (stdout is left open) */
  end(): Promise<void>;
}

/**
 * @example
 * const out = openOutput('vectors.jsonl', io);
 * await out.write(JSON.stringify(row) + '\n');
 * await out.end();
 */
export function openOutput(path: string | undefined, io: CliIO): Output {
  const stream: Writable = path === undefined ? io.stdout : createWriteStream(resolve(io.cwd ?? process.cwd(), path));
  let failure: Error | undefined;
  let closed = false;
  const onError = (e: NodeJS.ErrnoException) => {
    if (path === undefined && e.code === 'EPIPE') closed = true;
    else failure ??= e;
  };
  stream.on('error', onError);
  const check = () => {
    if (failure) throw new Error(`could not write ${path ?? 'stdout'}: ${failure.message}`);
  };
  return {
    get closed() {
      return closed;
    },
    async write(chunk) {
      check();
      if (closed) return;
      if (!stream.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            stream.off('drain', done);
            stream.off('error', done);
            stream.off('close', done);
            resolve();
          };
          stream.on('drain', done);
          stream.on('error', done);
          stream.on('close', done);
        });
      }
      check();
    },
    async end() {
      if (path === undefined) {
        stream.off('error', onError);
        // a closed pipe may still report EPIPE for what was buffered: let it go quietly
        stream.on('error', () => undefined);
        return;
      }
      await new Promise<void>((resolve, reject) => {
        stream.once('error', reject);
        stream.end(() => resolve());
      });
      check();
    },
  };
}

/** Progress on stderr; silent with --quiet. */
export class Progress {
  private last = 0;
  private pending: string | undefined;
  private readonly tty: boolean;

  constructor(
    private readonly stderr: Writable,
    private readonly quiet: boolean,
  ) {
    this.tty = !!(stderr as Writable & { isTTY?: boolean }).isTTY;
  }

  /** A status that replaces the previous one (throttled off a terminal). */
  status(message: string): void {
    if (this.quiet) return;
    const now = Date.now();
    if (this.tty) {
      this.stderr.write(`\r\x1b[K${message}`);
      this.pending = message;
      return;
    }
    if (now - this.last < 1000) {
      this.pending = message;
      return;
    }
    this.last = now;
    this.pending = undefined;
    this.stderr.write(`${message}\n`);
  }

  /** A line that stays (a throttled status still pending is written first, off a terminal). */
  line(message: string): void {
    if (this.quiet) return;
    if (this.tty) {
      this.stderr.write(`\r\x1b[K${message}\n`);
    } else {
      if (this.pending !== undefined) this.stderr.write(`${this.pending}\n`);
      this.stderr.write(`${message}\n`);
    }
    this.pending = undefined;
    this.last = 0;
  }
}

/** Bytes for people: 1.2 MB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}
