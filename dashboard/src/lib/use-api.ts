import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { asFailure, type ApiFailure } from "../api/errors";

export type Loaded<T> =
  | { state: "loading"; data: T | null; failure: null }
  | { state: "ready"; data: T; failure: null }
  | { state: "failed"; data: T | null; failure: ApiFailure };

/**
 * Loads `load()` now and whenever `deps` change; a newer load wins over an older one still in flight.
 * `reload` runs it again (after a change). While reloading, the previous data stays visible.
 */
export function useApi<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> & { reload: () => void } {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: "loading", data: null, failure: null });
  const generation = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const run = useCallback(() => {
    const current = ++generation.current;
    setLoaded((previous) => ({ state: "loading", data: previous.data, failure: null }));
    loadRef.current().then(
      (data) => current === generation.current && setLoaded({ state: "ready", data, failure: null }),
      (error: unknown) => current === generation.current && setLoaded((previous) => ({ state: "failed", data: previous.data, failure: asFailure(error) })),
    );
  }, []);

  // The caller names what the load depends on (the load itself is a new function every render).
  useEffect(run, deps);
  useEffect(() => () => void (generation.current += 1), []);
  return { ...loaded, reload: run };
}

/** A write in progress: `run` calls it, keeping its failure to show next to the control that caused it. */
export function useAction<A extends unknown[], T>(action: (...args: A) => Promise<T>) {
  const [pending, setPending] = useState(false);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const run = useCallback(
    async (...args: A): Promise<T | null> => {
      setPending(true);
      setFailure(null);
      try {
        return await action(...args);
      } catch (error) {
        setFailure(asFailure(error));
        return null;
      } finally {
        setPending(false);
      }
    },
    [action],
  );
  return { run, pending, failure, clearFailure: () => setFailure(null) };
}
