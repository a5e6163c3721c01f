// Shared building blocks: errors, loading and empty states, form fields, dialogs,
// secrets shown once, and actions that name the permission they need.
import {
  createContext,
  useContext,
  useEffect,
  useId,
  useRef,
  useState,
  type ButtonHTMLAttributes,
  type ReactNode,
} from 'react';
import type { ApiError } from './api';

export function ErrorBox({ error, title = 'The request failed' }: { error?: ApiError; title?: string }) {
  if (!error) return null;
  const missing = error.missing;
  return (
    <div className="error" role="alert">
      <strong>{title}</strong>
      <ul>
        {error.errors.map((e, i) => (
          <li key={i}>
            {e.message}
            {e.extensions?.code ? <span className="code"> ({e.extensions.code})</span> : null}
          </li>
        ))}
      </ul>
      {missing.length > 0 ? <p>Missing permission: {missing.join(', ')}</p> : null}
    </div>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · Heimdall console`;
  }, [title]);
  return (
    <div className="page-header">
      <h1 tabIndex={-1} id="page-title">
        {title}
      </h1>
      {children ? <div className="actions">{children}</div> : null}
    </div>
  );
}

export function Field({
  label,
  hint,
  children,
}: {
  label: string;
  hint?: string;
  children: (props: { id: string; 'aria-describedby'?: string }) => ReactNode;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-describedby': hint ? hintId : undefined })}
      {hint ? (
        <small id={hintId} className="hint">
          {hint}
        </small>
      ) : null}
    </div>
  );
}

export function Dialog({
  open,
  title,
  onClose,
  children,
  wide,
}: {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      if (typeof dialog.showModal === 'function') dialog.showModal();
      else dialog.setAttribute('open', '');
    } else if (!open && dialog.open) {
      if (typeof dialog.close === 'function') dialog.close();
      else dialog.removeAttribute('open');
    }
  }, [open]);
  return (
    <dialog
      ref={ref}
      className={wide ? 'drawer' : undefined}
      aria-labelledby={titleId}
      onClose={onClose}
      onCancel={onClose}
    >
      <div className="dialog-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="ghost" onClick={onClose} aria-label="Close">
          ✕
        </button>
      </div>
      {open ? children : null}
    </dialog>
  );
}

/** A secret the server shows once, with a copy button. */
export function SecretOnce({ label, secret }: { label: string; secret: string }) {
  const [copied, setCopied] = useState(false);
  const id = useId();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied(true);
    } catch {
      const input = document.getElementById(id) as HTMLInputElement | null;
      input?.select();
    }
  };
  return (
    <div className="secret" data-testid="secret-once">
      <p>
        <strong>{label}</strong> — shown once. Store it now: it cannot be read again.
      </p>
      <div className="secret-row">
        <input id={id} readOnly value={secret} aria-label={label} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" onClick={copy}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <span role="status" className="visually-hidden">
        {copied ? 'Copied to the clipboard' : ''}
      </span>
    </div>
  );
}

/** What the signed-in principal may do: keys may do everything. */
export interface Capabilities {
  /** Root key: may create and delete apps. */
  root: boolean;
  /** The missing permission for an action, or null when allowed. */
  missing: (permission: string | null) => string | null;
}

export const CapabilitiesContext = createContext<Capabilities>({ root: false, missing: () => null });

export function useCapabilities(): Capabilities {
  return useContext(CapabilitiesContext);
}

/**
 * A button for an action that needs `need`: shown disabled, with the missing
 * permission named, when the principal lacks it.
 */
export function Action({
  need,
  children,
  ...rest
}: { need: string | null } & ButtonHTMLAttributes<HTMLButtonElement>) {
  const capabilities = useCapabilities();
  const missing = capabilities.missing(need);
  const noteId = useId();
  if (missing) {
    return (
      <span className="forbidden">
        <button type="button" {...rest} disabled aria-describedby={noteId}>
          {children}
        </button>
        <small id={noteId}>Requires {missing}</small>
      </span>
    );
  }
  return (
    <button type="button" {...rest}>
      {children}
    </button>
  );
}

export function time(value?: string | null): string {
  if (!value) return '—';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function Time({ value }: { value?: string | null }) {
  if (!value) return <span>—</span>;
  return <time dateTime={value}>{time(value)}</time>;
}

export function Badge({ tone = 'neutral', children }: { tone?: 'ok' | 'warn' | 'bad' | 'neutral'; children: ReactNode }) {
  return <span className={`badge ${tone}`}>{children}</span>;
}

/** Whether `held` grants `needed`: `*`, `resource:*` / `resource.*`, `.` and `:` alike. */
export function permits(held: string[], needed: string): boolean {
  const norm = (p: string) => p.replace(':', '.');
  const want = norm(needed);
  const resource = want.split('.')[0];
  return held.some((h) => {
    const have = norm(h);
    return have === '*' || have === want || have === `${resource}.*`;
  });
}

/** The capabilities of an end user holding `held`; keys-only actions need a key. */
export function endUserCapabilities(held: string[]): Capabilities {
  return {
    root: false,
    missing: (p) => {
      if (p === null) return null;
      if (p === 'key') return 'an app key or root key';
      return permits(held, p) ? null : p;
    },
  };
}

/** Splits a comma- or line-separated list. */
export function splitList(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
}
