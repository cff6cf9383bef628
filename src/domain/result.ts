/**
 * A minimal Either for the domain. The domain imports nothing from outside itself
 * (see adr/0002), so it cannot use fp-ts; adapters convert at the edge.
 */
export type Result<E, A> = { readonly ok: true; readonly value: A } | { readonly ok: false; readonly error: E };

export const ok = <A>(value: A): Result<never, A> => ({ ok: true, value });
export const err = <E>(error: E): Result<E, never> => ({ ok: false, error });
