// Signing in and out: the token is sent once to POST /admin/session and forgotten; the browser
// keeps only the httpOnly session cookie, and this module keeps the CSRF token in memory.
import { request, setCsrfToken } from './api.ts';
import type { Session } from './types.ts';

export async function currentSession(): Promise<Session | null> {
  try {
    const s = await request<Session>('GET', '/admin/session', { quiet401: true });
    setCsrfToken(s.csrf_token);
    return s;
  } catch (err) {
    if ((err as { status?: number }).status === 401) return null;
    throw err;
  }
}

export async function signIn(token: string): Promise<Session> {
  const s = await request<Session>('POST', '/admin/session', { body: { token }, quiet401: true });
  setCsrfToken(s.csrf_token);
  return s;
}

export async function signOut(): Promise<void> {
  try {
    await request<void>('DELETE', '/admin/session', { quiet401: true });
  } finally {
    setCsrfToken(null);
  }
}
