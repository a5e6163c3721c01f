// Data hooks over `gql`: loading, error and data states; results are shown only
// as the server returns them (no optimistic updates).
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, gql } from './api';
import type { TypedDocumentString } from './gql/graphql';

export interface QueryState<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError([{ message: error instanceof Error ? error.message : String(error) }], 0);
}

export function useQuery<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  options: { skip?: boolean } = {},
): QueryState<TResult> {
  const [data, setData] = useState<TResult>();
  const [error, setError] = useState<ApiError>();
  const [loading, setLoading] = useState(!options.skip);
  const [tick, setTick] = useState(0);
  const key = JSON.stringify(variables);
  useEffect(() => {
    if (options.skip) return;
    let live = true;
    setLoading(true);
    setError(undefined);
    (gql as (d: unknown, v: unknown) => Promise<TResult>)(document, JSON.parse(key))
      .then((result) => live && setData(result))
      .catch((e: unknown) => live && setError(toApiError(e)))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [document, key, tick, options.skip]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

export interface MutationState<TResult, TVariables> {
  run: (variables: TVariables) => Promise<TResult | undefined>;
  data: TResult | undefined;
  error: ApiError | undefined;
  running: boolean;
  reset: () => void;
}

export function useMutation<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
): MutationState<TResult, TVariables> {
  const [data, setData] = useState<TResult>();
  const [error, setError] = useState<ApiError>();
  const [running, setRunning] = useState(false);
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  const run = useCallback(
    async (variables: TVariables) => {
      setRunning(true);
      setError(undefined);
      try {
        const result = await (gql as (d: unknown, v: unknown) => Promise<TResult>)(document, variables);
        if (mounted.current) setData(result);
        return result;
      } catch (e) {
        if (mounted.current) setError(toApiError(e));
        return undefined;
      } finally {
        if (mounted.current) setRunning(false);
      }
    },
    [document],
  );
  const reset = useCallback(() => {
    setData(undefined);
    setError(undefined);
  }, []);
  return { run, data, error, running, reset };
}

/** A cursor-paginated list: pages appended as `more()` is called. */
export function usePaged<TNode, TResult, TVariables extends { after?: string | null }>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  select: (result: TResult) => { nodes: TNode[]; pageInfo: { hasNextPage: boolean; endCursor?: string | null } },
) {
  const [items, setItems] = useState<TNode[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  const key = JSON.stringify(variables);
  const selectRef = useRef(select);
  selectRef.current = select;
  const load = useCallback(
    async (after: string | null, replace: boolean) => {
      setLoading(true);
      setError(undefined);
      try {
        const result = await (gql as (d: unknown, v: unknown) => Promise<TResult>)(document, {
          ...JSON.parse(key),
          after,
        });
        const page = selectRef.current(result);
        setItems((old) => (replace ? page.nodes : [...old, ...page.nodes]));
        setCursor(page.pageInfo.endCursor ?? null);
        setHasMore(page.pageInfo.hasNextPage);
      } catch (e) {
        setError(toApiError(e));
      } finally {
        setLoading(false);
      }
    },
    [document, key],
  );
  useEffect(() => {
    void load(null, true);
  }, [load, generation]);
  const more = useCallback(() => {
    if (hasMore && !loading) void load(cursor, false);
  }, [hasMore, loading, cursor, load]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { items, hasMore, error, loading, more, reload };
}
