/**
 * Base class of every operational failure. Callers branch on `code`, never on the message
 * and never on `instanceof` across layers.
 */
export class GatewayError<C extends string = string> extends Error {
  readonly code: C;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: C, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.details = options.details;
  }
}

/** The stable code an error carries (a GatewayError's, a Node system error's), else `fallback`. */
export function errorCodeOf(err: unknown, fallback = '-'): string {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : fallback;
}

export function isGatewayError(err: unknown, code?: string): err is GatewayError {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string' &&
    (code === undefined || (err as unknown as { code: string }).code === code);
}
