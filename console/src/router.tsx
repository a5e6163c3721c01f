// A small client router over the History API, below `{base}/console`.
import { createContext, useContext, useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from 'react';
import { basePath } from './api';

export function consoleRoot(): string {
  return `${basePath()}/console`;
}

/** The console-relative path of the current location (`/apps/acme/users`). */
function currentPath(): string {
  const root = consoleRoot();
  const path = window.location.pathname;
  const relative = path.startsWith(root) ? path.slice(root.length) : path;
  return relative === '' ? '/' : relative;
}

const listeners = new Set<() => void>();

export function navigate(to: string, replace = false): void {
  const url = `${consoleRoot()}${to}`;
  if (replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  listeners.forEach((l) => l());
}

export function usePath(): string {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    const update = () => setPath(currentPath());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return path;
}

/** Matches `/apps/:app/users/:id` against a path; params by name, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('/').filter(Boolean);
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) params[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return params;
}

export const PathContext = createContext('/');

export function useCurrentPath(): string {
  return useContext(PathContext);
}

export function Link({ to, ...rest }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const path = useCurrentPath();
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    rest.onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a
      href={`${consoleRoot()}${to}`}
      aria-current={path === to ? 'page' : undefined}
      {...rest}
      onClick={onClick}
    />
  );
}
