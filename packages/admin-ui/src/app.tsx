// The panel's shell: the session, the navigation and the page for the current path.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { onUnauthorized } from './api.ts';
import { ErrorNotice, Link, Loading, toApiError } from './components.tsx';
import { navigate, useLocation } from './router.ts';
import { currentSession, signOut } from './session.ts';
import type { ApiError } from './api.ts';
import type { Session } from './types.ts';
import { SignInPage } from './pages/sign-in.tsx';
import { OrganizationsPage } from './pages/organizations.tsx';
import { ApiKeysPage } from './pages/api-keys.tsx';
import { ServicesPage } from './pages/services.tsx';
import { PoliciesPage } from './pages/policies.tsx';
import { CredentialsPage } from './pages/credentials.tsx';
import { PlansPage } from './pages/plans.tsx';
import { AuditLogPage } from './pages/audit-log.tsx';

interface NavItem {
  path: string;
  label: string;
  platformOnly: boolean;
}

const NAV: NavItem[] = [
  { path: '/organizations', label: 'Organizations', platformOnly: true },
  { path: '/api-keys', label: 'API keys', platformOnly: false },
  { path: '/services', label: 'Services', platformOnly: false },
  { path: '/policies', label: 'Credential policies', platformOnly: true },
  { path: '/credentials', label: 'Credentials', platformOnly: false },
  { path: '/plans', label: 'Plans', platformOnly: true },
  { path: '/audit-log', label: 'Audit log', platformOnly: true },
];

export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [error, setError] = useState<ApiError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    currentSession().then(setSession, (err) => {
      setError(toApiError(err));
      setSession(null);
    });
    onUnauthorized(() => {
      setSession(null);
      setNotice('Your session has ended. Sign in again.');
    });
    return () => onUnauthorized(null);
  }, []);

  if (session === undefined) {
    return (
      <main class="centered">
        <Loading what="the session" />
      </main>
    );
  }
  if (session === null) {
    return (
      <SignInPage
        notice={notice}
        error={error}
        onSignedIn={(s) => {
          setNotice(null);
          setError(null);
          setSession(s);
        }}
      />
    );
  }
  return (
    <Shell
      session={session}
      onSignOut={async () => {
        try {
          await signOut();
        } catch {
          // The cookie is gone either way once the gateway answers; nothing else to do here.
        }
        setNotice('You have signed out.');
        setSession(null);
        navigate('/', { replace: true });
      }}
    />
  );
}

function Shell({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const loc = useLocation();
  const platform = session.role === 'platform';
  const items = NAV.filter((n) => platform || !n.platformOnly);
  const home = platform ? '/organizations' : '/api-keys';

  useEffect(() => {
    if (loc.path === '') navigate(home, { replace: true });
  }, [loc.path]);

  // Move focus to the new page's heading so screen readers announce it.
  useEffect(() => {
    document.getElementById('page-title')?.focus({ preventScroll: true });
  }, [loc.path]);

  const item = NAV.find((n) => n.path === loc.path);
  let page: ComponentChildren;
  if (item && item.platformOnly && !platform) page = <Forbidden />;
  else {
    switch (loc.path) {
      case '/organizations':
        page = <OrganizationsPage session={session} />;
        break;
      case '/api-keys':
        page = <ApiKeysPage session={session} query={loc.query} />;
        break;
      case '/services':
        page = <ServicesPage session={session} query={loc.query} />;
        break;
      case '/policies':
        page = <PoliciesPage session={session} query={loc.query} />;
        break;
      case '/credentials':
        page = <CredentialsPage session={session} query={loc.query} />;
        break;
      case '/plans':
        page = <PlansPage session={session} />;
        break;
      case '/audit-log':
        page = <AuditLogPage session={session} query={loc.query} />;
        break;
      case '':
        page = null;
        break;
      default:
        page = <NotFound home={home} />;
    }
  }

  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <Link href={home} class="brand">
          Portico <span class="brand-sub">admin</span>
        </Link>
        <div class="whoami" data-testid="whoami">
          {platform ? (
            <span>
              Signed in as <strong>platform admin</strong>
            </span>
          ) : (
            <span>
              Signed in as <strong>admin</strong> of <strong>{session.organization}</strong>
            </span>
          )}
          <button type="button" class="button button-small" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <nav class="sidebar" aria-label="Sections">
        <ul>
          {items.map((n) => (
            <li key={n.path}>
              <Link href={n.path} aria-current={loc.path === n.path ? 'page' : undefined}>
                {n.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" class="content">
        {page}
      </main>
    </div>
  );
}

function Forbidden() {
  return (
    <section>
      <h1 id="page-title" tabIndex={-1}>
        Not available
      </h1>
      <ErrorNotice error={toApiError(new Error('This page is for the platform admin only.'))} />
    </section>
  );
}

function NotFound({ home }: { home: string }) {
  return (
    <section>
      <h1 id="page-title" tabIndex={-1}>
        Page not found
      </h1>
      <p>
        <Link href={home}>Go to the start page</Link>
      </p>
    </section>
  );
}
