// Sign-in: the platform admin token or an organization admin API key, sent once to
// POST /admin/session and never kept by the browser.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ApiError } from '../api.ts';
import { ErrorNotice, Notice, useAction } from '../components.tsx';
import { signIn } from '../session.ts';
import type { Session } from '../types.ts';

export function SignInPage({ onSignedIn, notice, error: initialError }: { onSignedIn: (s: Session) => void; notice: string | null; error: ApiError | null }) {
  const [token, setToken] = useState('');
  const { busy, error, setError, run } = useAction();
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    document.title = 'Sign in · Portico admin';
    input.current?.focus();
    if (initialError) setError(initialError);
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    const s = await run(() => signIn(token));
    if (s) {
      setToken('');
      onSignedIn(s);
    }
  };

  return (
    <main class="centered">
      <form class="card sign-in" onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">
          Portico <span class="brand-sub">admin</span>
        </h1>
        <p class="muted">
          Sign in with the platform admin token or an organization admin API key. The token is exchanged for a session and is not stored in this browser.
        </p>
        {notice ? <Notice>{notice}</Notice> : null}
        <ErrorNotice error={error} />
        <div class="field">
          <label for="token">Admin token or API key</label>
          <input
            ref={input}
            id="token"
            name="token"
            type="password"
            autocomplete="off"
            spellcheck={false}
            required
            value={token}
            onInput={(e) => setToken(e.currentTarget.value)}
          />
        </div>
        <button type="submit" class="button button-primary" disabled={busy || token.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
