// SPEC §6 credential resolution as a pure function: the full policy truth table against an
// independent oracle written from the SPEC text, the unusable states and their precedence
// (§6 step 4), round-robin key pools and the retry target, and describePolicy.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../src/errors.ts';
import { nextCandidate, resolveCredential, type CandidateInfo, type PayloadCheck, type ResolveInput, type Resolved } from '../src/credentials/resolve.ts';
import { describePolicy, type CredentialPolicy, type CredentialSource } from '../src/credentials/policy.ts';
import { looksMasked, maskPayload, payloadLooksMasked } from '../src/credentials/mask.ts';

const SERVICE = 'elevenlabs';
const NOW = Date.parse('2030-01-01T00:00:00Z');

const MSG = {
  invalid_credential_policy: 'Credential policy does not allow any credential source.',
  credential_source_not_allowed: (src: CredentialSource) => `Credential source '${src}' is not allowed for external proxy service '${SERVICE}'.`,
  credentials_not_found: `No allowed credentials found for external proxy service '${SERVICE}'.`,
  masked_upstream_key: 'upstream provider credentials are masked and cannot be used',
  invalid_upstream_key_info: 'invalid key info response',
  missing_upstream_key: 'upstream provider credentials unavailable',
};

type Expected = { source: CredentialSource; id: string } | { status: number; code: string; message: string };

/** A credential for the tests: what the resolver sees plus what `check` answers for it. */
interface Cred extends CandidateInfo {
  payload: PayloadCheck;
}

function cred(id: string, source: CredentialSource, opts: { status?: 'active' | 'disabled'; expiresAt?: number | null; payload?: PayloadCheck } = {}): Cred {
  return { id, source, status: opts.status ?? 'active', expiresAt: opts.expiresAt ?? null, payload: opts.payload ?? 'ok' };
}

interface Run {
  policy: CredentialPolicy;
  explicit?: CredentialSource;
  tenant?: Cred[];
  platform?: Cred[];
  cooling?: string[];
  poolStart?: (source: CredentialSource, size: number) => number;
  checked?: string[];
}

function input(r: Run): ResolveInput<Cred> {
  const cooling = new Set(r.cooling ?? []);
  return {
    service: SERVICE,
    policy: r.policy,
    explicit: r.explicit,
    credentials: { tenant: r.tenant ?? [], platform: r.platform ?? [] },
    now: NOW,
    isCoolingDown: (id) => cooling.has(id),
    check: (c) => {
      r.checked?.push(c.id);
      return c.payload;
    },
    poolStart: r.poolStart ?? (() => 0),
  };
}

function outcome(r: Run): Resolved<Cred> | GatewayError {
  try {
    return resolveCredential(input(r));
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
}

function assertOutcome(got: Resolved<Cred> | GatewayError, want: Expected, label = ''): void {
  if ('code' in want) {
    assert.ok(got instanceof GatewayError, `${label}: expected ${want.code}, got credential ${got instanceof GatewayError ? '' : got.credential.id}`);
    assert.equal(got.code, want.code, label);
    assert.equal(got.status, want.status, label);
    assert.equal(got.message, want.message, label);
  } else {
    assert.ok(!(got instanceof GatewayError), `${label}: expected source ${want.source}, got error ${got instanceof GatewayError ? got.code : ''}`);
    assert.equal(got.source, want.source, label);
    assert.equal(got.credential.id, want.id, label);
    assert.equal(got.credential.source, want.source, label);
  }
}

function policy(allowTenant: boolean, allowPlatform: boolean, defaultSource: CredentialSource, fallback: boolean): CredentialPolicy {
  return { allow_tenant_key: allowTenant, allow_platform_key: allowPlatform, default_source: defaultSource, fallback_to_platform_key: fallback };
}

const TENANT_PLATFORM = policy(true, true, 'tenant', true);

// ---------------------------------------------------------------------------------------
// The oracle: SPEC §6 read step by step, without the gateway's sourceOrder.
// ---------------------------------------------------------------------------------------

interface Case {
  policy: CredentialPolicy;
  explicit: CredentialSource | undefined;
  tenantKey: boolean;
  platformKey: boolean;
}

function oracle(c: Case): Expected {
  const p = c.policy;
  const isAllowed = (s: CredentialSource): boolean => (s === 'tenant' ? p.allow_tenant_key : p.allow_platform_key);
  const hasKey = (s: CredentialSource): boolean => (s === 'tenant' ? c.tenantKey : c.platformKey);
  const found = (s: CredentialSource): Expected => ({ source: s, id: s === 'tenant' ? 'T1' : 'P1' });

  // Step 1: a policy allowing nothing fails whatever the request asks for.
  if (!p.allow_tenant_key && !p.allow_platform_key) {
    return { status: 400, code: 'invalid_credential_policy', message: MSG.invalid_credential_policy };
  }

  // "Explicit credential_source must be allowed by the policy; it restricts the order to that
  // one source, without fallback."
  if (c.explicit !== undefined) {
    if (!isAllowed(c.explicit)) {
      return { status: 400, code: 'credential_source_not_allowed', message: MSG.credential_source_not_allowed(c.explicit) };
    }
    if (hasKey(c.explicit)) return found(c.explicit);
    return { status: 404, code: 'credentials_not_found', message: MSG.credentials_not_found };
  }

  // Step 2: default_source first when it is allowed; when it is not, the (only) allowed one.
  let first: CredentialSource;
  if (isAllowed(p.default_source)) first = p.default_source;
  else if (p.default_source === 'tenant') first = 'platform';
  else first = 'tenant';
  // ...then platform after tenant, only when fallback_to_platform_key and allow_platform_key.
  const platformAfterTenant = first === 'tenant' && p.fallback_to_platform_key && p.allow_platform_key;

  if (hasKey(first)) return found(first);
  if (platformAfterTenant && c.platformKey) return found('platform');
  // Step 4, last line: nothing configured for the sources in the order.
  return { status: 404, code: 'credentials_not_found', message: MSG.credentials_not_found };
}

function describeCase(c: Case): string {
  const p = c.policy;
  return [
    `allow_tenant=${p.allow_tenant_key}`,
    `allow_platform=${p.allow_platform_key}`,
    `default=${p.default_source}`,
    `fallback=${p.fallback_to_platform_key}`,
    `explicit=${c.explicit ?? 'none'}`,
    `tenant_key=${c.tenantKey ? 'yes' : 'no'}`,
    `platform_key=${c.platformKey ? 'yes' : 'no'}`,
  ].join(' ');
}

const BOOLS = [false, true] as const;
const SOURCES = ['tenant', 'platform'] as const;
const EXPLICITS = [undefined, 'tenant', 'platform'] as const;

function allCases(): Case[] {
  const cases: Case[] = [];
  for (const allowTenant of BOOLS)
    for (const allowPlatform of BOOLS)
      for (const defaultSource of SOURCES)
        for (const fallback of BOOLS)
          for (const explicit of EXPLICITS)
            for (const tenantKey of BOOLS)
              for (const platformKey of BOOLS) {
                cases.push({ policy: policy(allowTenant, allowPlatform, defaultSource, fallback), explicit, tenantKey, platformKey });
              }
  return cases;
}

describe('truth table: policy x explicit source x keys present (192 cases)', () => {
  const cases = allCases();
  test('the table has 2*2*2*2*3*2*2 = 192 distinct cases', () => {
    assert.equal(cases.length, 192);
    assert.equal(new Set(cases.map(describeCase)).size, 192);
  });

  // A few rows written out by hand, so the oracle itself is checked against the SPEC text.
  test('oracle anchors (hand-written rows)', () => {
    const rows: [Case, Expected][] = [
      [
        { policy: TENANT_PLATFORM, explicit: undefined, tenantKey: true, platformKey: true },
        { source: 'tenant', id: 'T1' },
      ],
      [
        { policy: TENANT_PLATFORM, explicit: undefined, tenantKey: false, platformKey: true },
        { source: 'platform', id: 'P1' },
      ],
      [
        { policy: policy(true, true, 'tenant', false), explicit: undefined, tenantKey: false, platformKey: true },
        { status: 404, code: 'credentials_not_found', message: MSG.credentials_not_found },
      ],
      [
        { policy: policy(true, true, 'platform', true), explicit: undefined, tenantKey: true, platformKey: false },
        { status: 404, code: 'credentials_not_found', message: MSG.credentials_not_found },
      ],
      [
        { policy: policy(false, true, 'tenant', false), explicit: undefined, tenantKey: true, platformKey: true },
        { source: 'platform', id: 'P1' },
      ],
      [
        { policy: policy(true, false, 'platform', true), explicit: undefined, tenantKey: true, platformKey: true },
        { source: 'tenant', id: 'T1' },
      ],
      [
        { policy: policy(true, false, 'tenant', true), explicit: undefined, tenantKey: false, platformKey: true },
        { status: 404, code: 'credentials_not_found', message: MSG.credentials_not_found },
      ],
      [
        { policy: TENANT_PLATFORM, explicit: 'tenant', tenantKey: false, platformKey: true },
        { status: 404, code: 'credentials_not_found', message: MSG.credentials_not_found },
      ],
      [
        { policy: policy(true, false, 'tenant', true), explicit: 'platform', tenantKey: true, platformKey: true },
        { status: 400, code: 'credential_source_not_allowed', message: MSG.credential_source_not_allowed('platform') },
      ],
      [
        { policy: policy(false, false, 'tenant', true), explicit: 'tenant', tenantKey: true, platformKey: true },
        { status: 400, code: 'invalid_credential_policy', message: MSG.invalid_credential_policy },
      ],
    ];
    for (const [c, want] of rows) assert.deepEqual(oracle(c), want, describeCase(c));
  });

  for (const c of cases) {
    test(describeCase(c), () => {
      const want = oracle(c);
      const got = outcome({
        policy: c.policy,
        explicit: c.explicit,
        tenant: c.tenantKey ? [cred('T1', 'tenant')] : [],
        platform: c.platformKey ? [cred('P1', 'platform')] : [],
      });
      assertOutcome(got, want, describeCase(c));
      if (!(got instanceof GatewayError)) assert.deepEqual(got.rest, []);
    });
  }
});

// ---------------------------------------------------------------------------------------
// Unusable credentials (§6 step 3) and what is answered when nothing is usable (step 4).
// ---------------------------------------------------------------------------------------

const NOT_FOUND: Expected = { status: 404, code: 'credentials_not_found', message: MSG.credentials_not_found };
const MASKED: Expected = { status: 502, code: 'masked_upstream_key', message: MSG.masked_upstream_key };
const INVALID: Expected = { status: 502, code: 'invalid_upstream_key_info', message: MSG.invalid_upstream_key_info };
const MISSING: Expected = { status: 502, code: 'missing_upstream_key', message: MSG.missing_upstream_key };

/** One unusable state: how to make the credential, the extra cooling ids, the answer when alone. */
interface Unusable {
  name: string;
  make(id: string, source: CredentialSource): Cred;
  cooling: boolean;
  alone: Expected;
}

const UNUSABLE: Unusable[] = [
  { name: 'disabled', make: (id, s) => cred(id, s, { status: 'disabled' }), cooling: false, alone: NOT_FOUND },
  { name: 'expired', make: (id, s) => cred(id, s, { expiresAt: NOW - 1 }), cooling: false, alone: NOT_FOUND },
  { name: 'expired an hour ago', make: (id, s) => cred(id, s, { expiresAt: NOW - 3_600_000 }), cooling: false, alone: NOT_FOUND },
  { name: 'masked value in storage', make: (id, s) => cred(id, s, { payload: 'masked' }), cooling: false, alone: MASKED },
  { name: 'undecryptable / schema-invalid', make: (id, s) => cred(id, s, { payload: 'invalid' }), cooling: false, alone: INVALID },
  { name: 'cooling down', make: (id, s) => cred(id, s), cooling: true, alone: MISSING },
];

describe('unusable credentials', () => {
  for (const u of UNUSABLE) {
    for (const source of SOURCES) {
      test(`${u.name} ${source} credential alone → ${'code' in u.alone ? u.alone.code : ''}`, () => {
        const c = u.make('X1', source);
        const got = outcome({ policy: TENANT_PLATFORM, explicit: source, [source]: [c], cooling: u.cooling ? ['X1'] : [] });
        assertOutcome(got, u.alone, u.name);
      });
    }

    test(`${u.name} tenant credential, usable platform fallback → platform`, () => {
      const got = outcome({ policy: TENANT_PLATFORM, tenant: [u.make('T1', 'tenant')], platform: [cred('P1', 'platform')], cooling: u.cooling ? ['T1'] : [] });
      assertOutcome(got, { source: 'platform', id: 'P1' }, u.name);
    });

    test(`${u.name} credential first in the pool, usable one after it in the same source → the usable one`, () => {
      const got = outcome({
        policy: TENANT_PLATFORM,
        tenant: [u.make('T1', 'tenant'), cred('T2', 'tenant')],
        platform: [cred('P1', 'platform')],
        cooling: u.cooling ? ['T1'] : [],
      });
      assertOutcome(got, { source: 'tenant', id: 'T2' }, u.name);
    });

    test(`${u.name} tenant credential, fallback not allowed → answered as alone`, () => {
      const got = outcome({
        policy: policy(true, true, 'tenant', false),
        tenant: [u.make('T1', 'tenant')],
        platform: [cred('P1', 'platform')],
        cooling: u.cooling ? ['T1'] : [],
      });
      assertOutcome(got, u.alone, u.name);
    });
  }

  test('a credential expiring later than now is usable', () => {
    const got = outcome({ policy: TENANT_PLATFORM, tenant: [cred('T1', 'tenant', { expiresAt: NOW + 1 })] });
    assertOutcome(got, { source: 'tenant', id: 'T1' });
  });

  test('only disabled and expired credentials in both sources → credentials_not_found', () => {
    const got = outcome({
      policy: TENANT_PLATFORM,
      tenant: [cred('T1', 'tenant', { status: 'disabled' }), cred('T2', 'tenant', { expiresAt: NOW - 5 })],
      platform: [cred('P1', 'platform', { expiresAt: NOW - 60_000 }), cred('P2', 'platform', { status: 'disabled' })],
    });
    assertOutcome(got, NOT_FOUND);
  });

  test('disabled, expired and cooling credentials are never decrypted or checked', () => {
    const checked: string[] = [];
    const got = outcome({
      policy: TENANT_PLATFORM,
      tenant: [cred('T1', 'tenant', { status: 'disabled' }), cred('T2', 'tenant', { expiresAt: NOW - 5 }), cred('T3', 'tenant')],
      platform: [cred('P1', 'platform')],
      cooling: ['T3'],
      checked,
    });
    assertOutcome(got, { source: 'platform', id: 'P1' });
    assert.deepEqual(checked, ['P1']);
  });

  test('a usable tenant credential means the platform pool is not even looked at', () => {
    const checked: string[] = [];
    const got = outcome({ policy: TENANT_PLATFORM, tenant: [cred('T1', 'tenant')], platform: [cred('P1', 'platform', { payload: 'masked' })], checked });
    assertOutcome(got, { source: 'tenant', id: 'T1' });
    assert.deepEqual(checked, ['T1']);
  });
});

describe('§6 step 4 precedence', () => {
  test('remembered skip (masked) beats cooling down', () => {
    assertOutcome(
      outcome({ policy: TENANT_PLATFORM, tenant: [cred('T1', 'tenant', { payload: 'masked' })], platform: [cred('P1', 'platform')], cooling: ['P1'] }),
      MASKED,
    );
    assertOutcome(
      outcome({ policy: TENANT_PLATFORM, tenant: [cred('T1', 'tenant')], platform: [cred('P1', 'platform', { payload: 'masked' })], cooling: ['T1'] }),
      MASKED,
    );
  });

  test('remembered skip (invalid) beats cooling down, in the same pool too', () => {
    assertOutcome(outcome({ policy: TENANT_PLATFORM, tenant: [cred('T1', 'tenant'), cred('T2', 'tenant', { payload: 'invalid' })], cooling: ['T1'] }), INVALID);
    assertOutcome(
      outcome({ policy: TENANT_PLATFORM, tenant: [cred('T1', 'tenant')], platform: [cred('P1', 'platform', { payload: 'invalid' })], cooling: ['T1'] }),
      INVALID,
    );
  });

  test('the first remembered skip wins: pool order within a source', () => {
    const pool = [cred('T1', 'tenant', { payload: 'invalid' }), cred('T2', 'tenant', { payload: 'masked' })];
    assertOutcome(outcome({ policy: TENANT_PLATFORM, tenant: pool }), INVALID);
    const reversed = [cred('T1', 'tenant', { payload: 'masked' }), cred('T2', 'tenant', { payload: 'invalid' })];
    assertOutcome(outcome({ policy: TENANT_PLATFORM, tenant: reversed }), MASKED);
  });

  test('the first remembered skip wins: the round-robin start decides which is tried first', () => {
    const pool = [cred('T1', 'tenant', { payload: 'masked' }), cred('T2', 'tenant', { payload: 'invalid' })];
    assertOutcome(outcome({ policy: TENANT_PLATFORM, tenant: pool, poolStart: () => 1 }), INVALID);
  });

  test('the first remembered skip wins: source order (tenant before platform)', () => {
    assertOutcome(
      outcome({ policy: TENANT_PLATFORM, tenant: [cred('T1', 'tenant', { payload: 'masked' })], platform: [cred('P1', 'platform', { payload: 'invalid' })] }),
      MASKED,
    );
    assertOutcome(
      outcome({ policy: TENANT_PLATFORM, tenant: [cred('T1', 'tenant', { payload: 'invalid' })], platform: [cred('P1', 'platform', { payload: 'masked' })] }),
      INVALID,
    );
  });

  test('cooling down beats not-found (disabled / expired / empty sources)', () => {
    assertOutcome(
      outcome({
        policy: TENANT_PLATFORM,
        tenant: [cred('T1', 'tenant', { status: 'disabled' }), cred('T2', 'tenant')],
        platform: [cred('P1', 'platform', { expiresAt: NOW - 1 })],
        cooling: ['T2'],
      }),
      MISSING,
    );
    assertOutcome(outcome({ policy: TENANT_PLATFORM, tenant: [], platform: [cred('P1', 'platform')], cooling: ['P1'] }), MISSING);
  });

  test('every key of a pool cooling down → missing_upstream_key', () => {
    assertOutcome(outcome({ policy: TENANT_PLATFORM, platform: [cred('P1', 'platform'), cred('P2', 'platform')], cooling: ['P1', 'P2'] }), MISSING);
  });

  test('cooling or unusable credentials of a source outside the order do not count', () => {
    const tenantOnly = policy(true, false, 'tenant', true);
    assertOutcome(outcome({ policy: tenantOnly, platform: [cred('P1', 'platform')], cooling: ['P1'] }), NOT_FOUND);
    assertOutcome(outcome({ policy: tenantOnly, platform: [cred('P1', 'platform', { payload: 'masked' })] }), NOT_FOUND);
    assertOutcome(outcome({ policy: TENANT_PLATFORM, explicit: 'tenant', platform: [cred('P1', 'platform')], cooling: ['P1'] }), NOT_FOUND);
    assertOutcome(outcome({ policy: TENANT_PLATFORM, explicit: 'tenant', platform: [cred('P1', 'platform', { payload: 'invalid' })] }), NOT_FOUND);
    assertOutcome(
      outcome({
        policy: policy(true, true, 'platform', true),
        tenant: [cred('T1', 'tenant', { payload: 'masked' })],
        platform: [cred('P1', 'platform')],
        cooling: ['P1'],
      }),
      MISSING,
    );
  });

  test('a disabled or expired credential holding a masked value is not a remembered skip', () => {
    assertOutcome(
      outcome({
        policy: TENANT_PLATFORM,
        tenant: [cred('T1', 'tenant', { status: 'disabled', payload: 'masked' }), cred('T2', 'tenant', { expiresAt: NOW - 1, payload: 'invalid' })],
      }),
      NOT_FOUND,
    );
  });

  test('policy checks come before everything else', () => {
    assertOutcome(outcome({ policy: policy(false, false, 'tenant', true), explicit: 'platform', platform: [cred('P1', 'platform')] }), {
      status: 400,
      code: 'invalid_credential_policy',
      message: MSG.invalid_credential_policy,
    });
    assertOutcome(outcome({ policy: policy(false, true, 'tenant', true), explicit: 'tenant', tenant: [cred('T1', 'tenant', { payload: 'masked' })] }), {
      status: 400,
      code: 'credential_source_not_allowed',
      message: MSG.credential_source_not_allowed('tenant'),
    });
  });
});

// ---------------------------------------------------------------------------------------
// Key pools: round-robin, the retry candidates (`rest`) and nextCandidate.
// ---------------------------------------------------------------------------------------

/** The registry's counter: one position per (source) that increases on every call. */
function counter(calls?: [CredentialSource, number][]): (source: CredentialSource, size: number) => number {
  const n = new Map<CredentialSource, number>();
  return (source, size) => {
    calls?.push([source, size]);
    const v = n.get(source) ?? 0;
    n.set(source, v + 1);
    return v;
  };
}

describe('key pools', () => {
  const pool = () => [cred('A', 'platform'), cred('B', 'platform'), cred('C', 'platform')];

  test('with 3 candidates the chosen id cycles and rest lists the others in pool order', () => {
    const creds = pool();
    const poolStart = counter();
    const seen: [string, string[]][] = [];
    for (let i = 0; i < 6; i++) {
      const r = resolveCredential(input({ policy: TENANT_PLATFORM, platform: creds, poolStart }));
      seen.push([r.credential.id, r.rest.map((c) => c.id)]);
    }
    assert.deepEqual(seen, [
      ['A', ['B', 'C']],
      ['B', ['C', 'A']],
      ['C', ['A', 'B']],
      ['A', ['B', 'C']],
      ['B', ['C', 'A']],
      ['C', ['A', 'B']],
    ]);
  });

  test('a large poolStart wraps around', () => {
    const r = resolveCredential(input({ policy: TENANT_PLATFORM, platform: pool(), poolStart: () => 3 * 1000 + 2 }));
    assert.equal(r.credential.id, 'C');
    assert.deepEqual(
      r.rest.map((c) => c.id),
      ['A', 'B'],
    );
  });

  test('cooling credentials leave the rotation; poolStart is told the candidate count', () => {
    const calls: [CredentialSource, number][] = [];
    const poolStart = counter(calls);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(resolveCredential(input({ policy: TENANT_PLATFORM, platform: pool(), cooling: ['B'], poolStart })).credential.id);
    assert.deepEqual(ids, ['A', 'C', 'A', 'C']);
    assert.deepEqual(calls, [
      ['platform', 2],
      ['platform', 2],
      ['platform', 2],
      ['platform', 2],
    ]);
    const r = resolveCredential(input({ policy: TENANT_PLATFORM, platform: pool(), cooling: ['B'], poolStart: () => 0 }));
    assert.deepEqual(
      r.rest.map((c) => c.id),
      ['C'],
    );
  });

  test('disabled and expired credentials leave the rotation', () => {
    const creds = [cred('A', 'platform'), cred('B', 'platform', { status: 'disabled' }), cred('C', 'platform', { expiresAt: NOW - 1 }), cred('D', 'platform')];
    const poolStart = counter();
    const got = [0, 1, 2, 3].map(() => resolveCredential(input({ policy: TENANT_PLATFORM, platform: creds, poolStart })));
    assert.deepEqual(
      got.map((r) => r.credential.id),
      ['A', 'D', 'A', 'D'],
    );
    assert.deepEqual(
      got.map((r) => r.rest.map((c) => c.id)),
      [['D'], ['A'], ['D'], ['A']],
    );
  });

  test('a skipped (unusable) candidate is passed over and not offered as a retry target', () => {
    const creds = [cred('A', 'platform'), cred('B', 'platform', { payload: 'invalid' }), cred('C', 'platform')];
    const r = resolveCredential(input({ policy: TENANT_PLATFORM, platform: creds, poolStart: () => 1 }));
    assert.equal(r.credential.id, 'C');
    assert.deepEqual(
      r.rest.map((c) => c.id),
      ['A'],
    );
  });

  test('each source rotates on its own counter', () => {
    const calls: [CredentialSource, number][] = [];
    const poolStart = counter(calls);
    const tenant = [cred('T1', 'tenant', { payload: 'masked' }), cred('T2', 'tenant', { payload: 'masked' })];
    const ids = [0, 1, 2].map(() => resolveCredential(input({ policy: TENANT_PLATFORM, tenant, platform: pool(), poolStart })).credential.id);
    assert.deepEqual(ids, ['A', 'B', 'C']);
    assert.deepEqual(
      calls.map(([s]) => s),
      ['tenant', 'platform', 'tenant', 'platform', 'tenant', 'platform'],
    );
  });

  test('nextCandidate skips cooling and unusable ones, keeps order, null when none is left', () => {
    const rest = [
      cred('B', 'platform'),
      cred('C', 'platform', { payload: 'invalid' }),
      cred('D', 'platform', { payload: 'masked' }),
      cred('E', 'platform'),
      cred('F', 'platform'),
    ];
    const check = (c: Cred) => c.payload;
    assert.equal(nextCandidate(rest, (id) => id === 'B', check)?.id, 'E');
    assert.equal(nextCandidate(rest, () => false, check)?.id, 'B');
    assert.equal(nextCandidate(rest, (id) => id === 'B' || id === 'E', check)?.id, 'F');
    assert.equal(
      nextCandidate(rest, (id) => id !== 'C' && id !== 'D', check),
      null,
    );
    assert.equal(
      nextCandidate([], () => false, check),
      null,
    );
  });

  test('the retry target after a cool-down is the next candidate of the same source, never the other source', () => {
    const cooling = new Set<string>();
    const r = resolveCredential(input({ policy: TENANT_PLATFORM, tenant: [cred('T1', 'tenant')], platform: [cred('P1', 'platform')] }));
    assert.equal(r.credential.id, 'T1');
    assert.equal(r.rest.length, 0);
    cooling.add('T1');
    assert.equal(
      nextCandidate(
        r.rest,
        (id) => cooling.has(id),
        (c) => c.payload,
      ),
      null,
    );
  });
});

describe('describePolicy', () => {
  test('plain-language order for every policy', () => {
    const rows: [CredentialPolicy, string][] = [
      [policy(true, true, 'tenant', true), 'tenant key, then platform key'],
      [policy(true, true, 'tenant', false), 'tenant key'],
      [policy(true, true, 'platform', true), 'platform key'],
      [policy(true, true, 'platform', false), 'platform key'],
      [policy(true, false, 'tenant', true), 'tenant key'],
      [policy(true, false, 'tenant', false), 'tenant key'],
      [policy(true, false, 'platform', true), 'tenant key'],
      [policy(true, false, 'platform', false), 'tenant key'],
      [policy(false, true, 'tenant', true), 'platform key'],
      [policy(false, true, 'tenant', false), 'platform key'],
      [policy(false, true, 'platform', true), 'platform key'],
      [policy(false, true, 'platform', false), 'platform key'],
      [policy(false, false, 'tenant', true), 'no credential source allowed: every call fails'],
      [policy(false, false, 'tenant', false), 'no credential source allowed: every call fails'],
      [policy(false, false, 'platform', true), 'no credential source allowed: every call fails'],
      [policy(false, false, 'platform', false), 'no credential source allowed: every call fails'],
    ];
    assert.equal(rows.length, 16);
    for (const [p, want] of rows) assert.equal(describePolicy(p), want, JSON.stringify(p));
  });

  test('describePolicy agrees with the oracle order', () => {
    for (const allowTenant of BOOLS)
      for (const allowPlatform of BOOLS)
        for (const d of SOURCES)
          for (const fallback of BOOLS) {
            const p = policy(allowTenant, allowPlatform, d, fallback);
            if (!allowTenant && !allowPlatform) continue;
            // Both keys present: the oracle picks the first source; tenant absent shows the fallback.
            const first = oracle({ policy: p, explicit: undefined, tenantKey: true, platformKey: true });
            const second = oracle({ policy: p, explicit: undefined, tenantKey: false, platformKey: true });
            assert.ok('source' in first);
            const order = [first.source];
            if (first.source === 'tenant' && 'source' in second) order.push(second.source);
            assert.equal(describePolicy(p), order.map((s) => `${s} key`).join(', then '), JSON.stringify(p));
          }
  });
});

describe('masked display values (§6 step 3, §8)', () => {
  test('looksMasked: a run of two or more *, or any • or …', () => {
    for (const v of ['sk_****abcd', '**', 'a**b', 'sk_…abcd', '…', 'sk_•abcd', '••••', 'xx***']) assert.equal(looksMasked(v), true, v);
    for (const v of ['sk_live_0123456789', 'sk_*abcd', 'a*b*c', '', 'sk_...abcd', 'sk_·abcd']) assert.equal(looksMasked(v), false, v);
  });

  test('payloadLooksMasked looks at every string field, nested too', () => {
    assert.equal(payloadLooksMasked({ key: 'sk_real_0123456789' }), false);
    assert.equal(payloadLooksMasked({ key: 'sk_****6789' }), true);
    assert.equal(payloadLooksMasked({ key: 'sk_real_0123456789', secret: 'ab…cd' }), true);
    assert.equal(payloadLooksMasked({ outer: { inner: ['x', 'y••'] } }), true);
    assert.equal(payloadLooksMasked({ n: 1, b: true, z: null }), false);
    assert.equal(payloadLooksMasked(null), false);
  });

  test('maskPayload shows the first 3 and last 4 characters, and its output always looks masked', () => {
    assert.equal(maskPayload({ key: 'sk_live_0123456789abcd' }), 'sk_…abcd');
    for (const p of [{ key: 'sk_live_0123456789abcd' }, { key: 'short' }, { key: '0123456789' }, { other: 'x' }, null, 'sk_plain_string']) {
      const m = maskPayload(p);
      assert.equal(looksMasked(m), true, `${JSON.stringify(p)} → ${m}`);
      if (typeof p === 'object' && p !== null && typeof (p as { key?: unknown }).key === 'string') {
        const key = (p as { key: string }).key;
        assert.ok(!m.includes(key), 'never the whole secret');
        assert.ok(m.replace('…', '').length <= 7, 'at most 7 characters of the secret');
      }
    }
  });
});
