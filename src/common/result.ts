/** A protocol outcome as a value: failures carry a stable code and a human reason. */
export type Ok<T> = { ok: true; value: T };
export type Err<C extends string = string> = { ok: false; code: C; reason: string };
export type Result<T, C extends string = string> = Ok<T> | Err<C>;

export function ok<T>(value: T): Ok<T> {
  return { ok: true, value };
}

export function err<C extends string>(code: C, reason: string): Err<C> {
  return { ok: false, code, reason };
}
