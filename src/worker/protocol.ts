/**
 * What crosses the worker boundary besides plain data, as comlink transfer handlers (registered
 * on both sides by importing this module):
 *  - an AbortSignal travels as a MessagePort; aborting on the main thread aborts its twin in the worker;
 *  - a thrown error keeps its class: the main thread can `catch (e) { if (e instanceof ModelLoadError) … }`.
 */
import { transferHandlers, type TransferHandler } from 'comlink';
import * as errors from '../errors.ts';

interface AbortWire {
  port: MessagePort;
  aborted: boolean;
  reason?: unknown;
}

const abortSignalHandler: TransferHandler<AbortSignal, AbortWire> = {
  canHandle: (v): v is AbortSignal => typeof AbortSignal !== 'undefined' && v instanceof AbortSignal,
  serialize(signal) {
    const { port1, port2 } = new MessageChannel();
    if (!signal.aborted) {
      signal.addEventListener('abort', () => {
        port1.postMessage(serializableReason(signal.reason));
        port1.close();
      }, { once: true });
    }
    return [{ port: port2, aborted: signal.aborted, reason: serializableReason(signal.reason) }, [port2]];
  },
  deserialize({ port, aborted, reason }) {
    const controller = new AbortController();
    if (aborted) controller.abort(reviveReason(reason));
    else {
      port.onmessage = (ev) => {
        controller.abort(reviveReason(ev.data));
        port.close();
      };
    }
    return controller.signal;
  },
};

/** Error classes that keep their identity across the boundary. */
const ERROR_CLASSES: Record<string, new (message: string) => Error> = {
  ...Object.fromEntries(Object.entries(errors).filter(([, v]) => typeof v === 'function')),
  TypeError,
  RangeError,
  Error,
};

interface ErrorWire {
  name: string;
  message: string;
  stack?: string;
  /** own enumerable fields (e.g. ModelLoadError's url), plain values or lists of them */
  fields: Record<string, unknown>;
  isDomException: boolean;
}

function toWire(e: Error): ErrorWire {
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) if (k !== 'cause' && isCloneable(v)) fields[k] = v;
  return { name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}), fields, isDomException: typeof DOMException !== 'undefined' && e instanceof DOMException };
}

function fromWire(w: ErrorWire): Error {
  if (w.isDomException) return new DOMException(w.message, w.name);
  const Cls = ERROR_CLASSES[w.name] ?? Error;
  const e = new Cls(w.message);
  Object.assign(e, w.fields);
  if (e.name !== w.name) e.name = w.name;
  if (w.stack) e.stack = w.stack;
  return e;
}

function isCloneable(v: unknown): boolean {
  // plain values, and lists of them (DtypeNotFoundError's `available`)
  return v === null || ['string', 'number', 'boolean', 'undefined'].includes(typeof v) || (Array.isArray(v) && v.every(isCloneable));
}

function serializableReason(reason: unknown): unknown {
  return reason instanceof Error ? { __error: toWire(reason) } : isCloneable(reason) ? reason : String(reason);
}

function reviveReason(reason: unknown): unknown {
  return reason && typeof reason === 'object' && '__error' in reason ? fromWire((reason as { __error: ErrorWire }).__error) : reason;
}

let registered = false;

/** Registers the handlers with comlink (idempotent). */
export function registerTransferHandlers(): void {
  if (registered) return;
  registered = true;
  transferHandlers.set('abort-signal', abortSignalHandler as TransferHandler<unknown, unknown>);
  const original = transferHandlers.get('throw')!;
  transferHandlers.set('throw', {
    canHandle: original.canHandle,
    serialize(thrown: unknown) {
      const value = (thrown as { value: unknown }).value;
      if (value instanceof Error) return [{ isError: true, wire: toWire(value) }, []];
      return original.serialize(thrown);
    },
    deserialize(serialized: unknown) {
      const s = serialized as { isError?: boolean; wire?: ErrorWire };
      if (s.isError && s.wire) throw fromWire(s.wire);
      return original.deserialize(serialized);
    },
  });
}
