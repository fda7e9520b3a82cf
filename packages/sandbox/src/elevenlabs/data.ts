// ElevenLabs fixture data: the voice and model ids that appear in the provider's docs
// (CATALOG §3 point 10), shaped like the real answers (CATALOG §1.3, the provider's OpenAPI).

export const VOICE_IDS = {
  george: 'JBFqnCBsd6RMkjVDRZzb',
  rachel: '21m00Tcm4TlvDq8ikWAM',
  sarah: 'EXAVITQu4vr4xnSDxMaL',
  roger: 'CwhRBWXzGAHq8TQ4Fs17',
} as const;

export const DEFAULT_MODEL_ID = 'eleven_multilingual_v2';
export const HISTORY_ITEM_ID = 'ja9xsmfGhxYcymxGcOGB';
export const DUBBING_ID = '21m00Tcm4TlvDq8ikWAM';
export const TRANSCRIPTION_ID = 'pR2Yjhnvcu0d8GSqBmzK';
export const PUBLIC_USER_ID = '63e84100a6bf7874ba37a1bab9a31828a379ec94b891b401653b655c5110880f';
export const SHARED_VOICE_ID = 'sB1b5zUrxQVAFl2PhZFp';

export const DEFAULT_VOICE_SETTINGS = {
  stability: 0.5,
  similarity_boost: 0.75,
  style: 0.0,
  use_speaker_boost: true,
  speed: 1.0,
};

export type Voice = Record<string, unknown> & { voice_id: string; name: string; category: string };

const HQ_MODELS = ['eleven_multilingual_v2', 'eleven_turbo_v2_5', 'eleven_flash_v2_5'];

export function voice(voice_id: string, name: string, category: string, labels: Record<string, string>, description: string | null): Voice {
  return {
    voice_id,
    name,
    samples: null,
    category,
    fine_tuning: {
      is_allowed_to_fine_tune: false,
      state: {},
      verification_failures: [],
      verification_attempts_count: 0,
      manual_verification_requested: false,
    },
    labels,
    description,
    preview_url: category === 'premade' ? `https://storage.googleapis.com/eleven-public-prod/premade/voices/${voice_id}/preview.mp3` : null,
    available_for_tiers: [],
    settings: null,
    sharing: null,
    high_quality_base_model_ids: category === 'premade' ? HQ_MODELS : [],
    verified_languages: [],
    is_owner: category !== 'premade',
    is_legacy: false,
    is_mixed: false,
    created_at_unix: category === 'premade' ? null : Math.floor(Date.now() / 1000),
  };
}

export function premadeVoices(): Voice[] {
  return [
    voice(VOICE_IDS.george, 'George', 'premade', { accent: 'british', age: 'middle_aged', gender: 'male', use_case: 'narration' }, 'Warm British storyteller.'),
    voice(VOICE_IDS.rachel, 'Rachel', 'premade', { accent: 'american', age: 'young', gender: 'female', use_case: 'narration' }, 'Calm, clear narrator.'),
    voice(VOICE_IDS.sarah, 'Sarah', 'premade', { accent: 'american', age: 'young', gender: 'female', use_case: 'news' }, 'Soft, confident news voice.'),
    voice(VOICE_IDS.roger, 'Roger', 'premade', { accent: 'american', age: 'middle_aged', gender: 'male', use_case: 'conversational' }, 'Easy-going, casual.'),
  ];
}

function model(
  model_id: string,
  name: string,
  description: string,
  opts: { sts: boolean; style: boolean; cost: number; freeMax: number; paidMax: number; group: 'standard' | 'turbo'; languages: string[] },
): Record<string, unknown> {
  return {
    model_id,
    name,
    can_be_finetuned: true,
    can_do_text_to_speech: true,
    can_do_voice_conversion: opts.sts,
    can_use_style: opts.style,
    can_use_speaker_boost: true,
    serves_pro_voices: false,
    token_cost_factor: opts.cost,
    description,
    requires_alpha_access: false,
    max_characters_request_free_user: opts.freeMax,
    max_characters_request_subscribed_user: opts.paidMax,
    maximum_text_length_per_request: opts.paidMax,
    languages: opts.languages.map((id) => ({ language_id: id, name: LANGUAGE_NAMES[id] ?? id })),
    model_rates: { character_cost_multiplier: opts.cost },
    concurrency_group: opts.group,
  };
}

const LANGUAGE_NAMES: Record<string, string> = {
  en: 'English',
  de: 'German',
  es: 'Spanish',
  fr: 'French',
  it: 'Italian',
  ja: 'Japanese',
  pt: 'Portuguese',
};

const LANGS = Object.keys(LANGUAGE_NAMES);

export const MODELS = [
  model(
    'eleven_multilingual_v2',
    'Eleven Multilingual v2',
    'Our state of the art multilingual speech synthesis model, able to generate life-like speech in 29 languages.',
    { sts: true, style: true, cost: 1, freeMax: 2500, paidMax: 10000, group: 'standard', languages: LANGS },
  ),
  model('eleven_flash_v2_5', 'Eleven Flash v2.5', 'Our ultra low latency model.', {
    sts: false,
    style: false,
    cost: 0.5,
    freeMax: 2500,
    paidMax: 40000,
    group: 'turbo',
    languages: LANGS,
  }),
  model('eleven_turbo_v2_5', 'Eleven Turbo v2.5', 'High quality, low latency model.', {
    sts: false,
    style: false,
    cost: 0.5,
    freeMax: 2500,
    paidMax: 40000,
    group: 'turbo',
    languages: LANGS,
  }),
  model('eleven_v3', 'Eleven v3', 'Our most expressive model, for dialogue and storytelling.', {
    sts: false,
    style: true,
    cost: 1,
    freeMax: 2500,
    paidMax: 5000,
    group: 'standard',
    languages: LANGS,
  }),
  model('eleven_multilingual_sts_v2', 'Eleven Multilingual v2 (speech-to-speech)', 'Voice changer model.', {
    sts: true,
    style: true,
    cost: 1,
    freeMax: 2500,
    paidMax: 10000,
    group: 'standard',
    languages: LANGS,
  }),
];

export const MODEL_IDS = new Set(MODELS.map((m) => m.model_id as string));

/** `GET /v1/user/subscription`; carries the fields the official JS SDK 2.73 requires too. */
export function subscription(charactersUsed: number): Record<string, unknown> {
  return {
    tier: 'creator',
    character_count: charactersUsed,
    character_limit: 100000,
    max_character_limit_extension: 10000,
    max_credit_limit_extension: 10000,
    can_extend_character_limit: true,
    allowed_to_extend_character_limit: true,
    next_character_count_reset_unix: nextMonthUnix(),
    voice_slots_used: 1,
    professional_voice_slots_used: 0,
    professional_voice_slots_used_in_workspace: 0,
    voice_limit: 30,
    max_voice_add_edits: 230,
    voice_add_edit_counter: 0,
    professional_voice_limit: 1,
    can_extend_voice_limit: false,
    can_use_instant_voice_cloning: true,
    can_use_professional_voice_cloning: true,
    currency: 'usd',
    status: 'active',
    billing_period: 'monthly_period',
    character_refresh_period: 'monthly_period',
    next_invoice: { amount_due_cents: 2200, next_payment_attempt_unix: nextMonthUnix() },
    current_overage: { amount: '0', currency: 'usd' },
    open_invoices: [],
    has_open_invoices: false,
  };
}

function nextMonthUnix(): number {
  const d = new Date();
  return Math.floor(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) / 1000);
}

export function user(charactersUsed: number): Record<string, unknown> {
  return {
    user_id: 'sandbox-user-0001',
    first_name: 'Sandbox',
    subscription: subscription(charactersUsed),
    subscription_extras: {
      concurrency: 10,
      convai_concurrency: 10,
      force_logging_disabled: false,
      can_request_manual_pro_voice_verification: true,
      can_bypass_voice_captcha: true,
      moderation: {
        is_in_probation: false,
        enterprise_check_nogo_voice: false,
        enterprise_check_block_nogo_voice: false,
        never_live_moderate: false,
        nogo_voice_similar_voice_upload_count: 0,
        enterprise_background_moderation_enabled: false,
        on_watchlist: false,
      },
      unused_characters_rolled_over_from_previous_period: 0,
      overused_characters_rolled_over_from_previous_period: 0,
    },
    is_new_user: false,
    is_onboarding_completed: true,
    is_onboarding_checklist_completed: true,
    is_api_key_hashed: true,
    can_use_delayed_payment_methods: false,
    created_at: 1735689600,
  };
}

export const SHARED_VOICES = [
  {
    public_owner_id: PUBLIC_USER_ID,
    voice_id: SHARED_VOICE_ID,
    date_unix: 1714423232,
    name: 'Alita',
    accent: 'american',
    gender: 'Female',
    age: 'young',
    descriptive: 'calm',
    use_case: 'characters_animation',
    category: 'professional',
    language: 'en',
    locale: 'en-US',
    description: 'Perfectly calm, neutral and strong voice. Great for a young female protagonist.',
    preview_url: `https://storage.googleapis.com/eleven-public-prod/${SHARED_VOICE_ID}/preview.mp3`,
    usage_character_count_1y: 12852,
    usage_character_count_7d: 12852,
    play_api_usage_character_count_1y: 12852,
    cloned_by_count: 11,
    rate: 1,
    free_users_allowed: true,
    live_moderation_enabled: false,
    featured: false,
    verified_languages: [{ language: 'en', model_id: 'eleven_multilingual_v2', accent: 'american', locale: 'en-US', preview_url: null }],
  },
];

export interface HistoryItem {
  history_item_id: string;
  request_id: string;
  voice_id: string;
  voice_name: string;
  voice_category: string;
  model_id: string;
  text: string;
  date_unix: number;
  character_count_change_from: number;
  character_count_change_to: number;
  content_type: string;
  state: string;
  settings: Record<string, unknown>;
  feedback: null;
  share_link_id: null;
  source: string;
  alignments: null;
  dialogue: null;
  /** Output format the audio was made in (not part of the provider's JSON). */
  output_format?: string;
}

export function seedHistory(): HistoryItem[] {
  return [
    {
      history_item_id: HISTORY_ITEM_ID,
      request_id: 'BF0BZg4IwLGBlaVjv9Im',
      voice_id: VOICE_IDS.rachel,
      voice_name: 'Rachel',
      voice_category: 'premade',
      model_id: DEFAULT_MODEL_ID,
      text: 'Hello, world!',
      date_unix: 1714650306,
      character_count_change_from: 17189,
      character_count_change_to: 17202,
      content_type: 'audio/mpeg',
      state: 'created',
      settings: DEFAULT_VOICE_SETTINGS,
      feedback: null,
      share_link_id: null,
      source: 'TTS',
      alignments: null,
      dialogue: null,
    },
  ];
}
