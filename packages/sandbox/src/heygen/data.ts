// HeyGen fixture data: the avatar and voice ids that appear in HeyGen's docs (CATALOG §3
// point 10), shaped like the v1/v2/v3 answers of CATALOG §2.4 and HeyGen's OpenAPI.

export const AVATAR_IDS = ['Abigail_expressive_2024112501', 'Kristin_public_3_20240108', 'josh_lite3_20230714'] as const;
export const VOICE_IDS = ['1bd001e7e50f421d891986aad5158bc8', '2f72ee82b83d4b00af16c4771d611752'] as const;

/** Ids of seeded resources, so that every `{id}` endpoint has something to find. */
export const SEED = {
  video: '4e3b2f5c6d7a48e9b0c1d2e3f4a5b6c7',
  videoTranslate: '7f1d2c3b4a5968778695a4b3c2d1e0f9',
  template: 'b4d1a2c3e5f6478899aabbccddeeff00',
  avatarGroup: 'c5d8e2f1a3b44c6d8e9f0a1b2c3d4e5f',
  talkingPhoto: '8e2c9d5f0a1b4c3d9e8f7a6b5c4d3e2f',
  photoAvatar: 'f1e2d3c4b5a697887766554433221100',
  webhookEndpoint: '0a1b2c3d4e5f46a7b8c9d0e1f2a3b4c5',
  asset: 'eeb5d93b927c4ea38bf2503b0db5d4d6',
} as const;

const FILES = 'https://files2.heygen.ai';

interface AvatarFixture {
  id: string;
  name: string;
  gender: string;
  voice: string;
  hash: string;
}

const AVATARS: AvatarFixture[] = [
  { id: AVATAR_IDS[0], name: 'Abigail (Upper Body)', gender: 'female', voice: VOICE_IDS[0], hash: '1ad51ab9fee24ae88af067206e14a1d8_44250' },
  { id: AVATAR_IDS[1], name: 'Kristin in Black Suit', gender: 'female', voice: VOICE_IDS[1], hash: '2c7b1f0e9d8a4b6c8e5f3a2d1c0b9a87_12001' },
  { id: AVATAR_IDS[2], name: 'Josh', gender: 'male', voice: VOICE_IDS[1], hash: '3d6a2e1f0c9b4a5d7e6f4b3c2d1e0f98_10320' },
];

const preview = (a: AvatarFixture, file: string): string => `${FILES}/avatar/v3/${a.hash}/${file}`;

/** `GET /v2/avatars` items. */
export const V2_AVATARS = AVATARS.map((a) => ({
  avatar_id: a.id,
  avatar_name: a.name,
  gender: a.gender,
  preview_image_url: preview(a, 'preview_target.webp'),
  preview_video_url: preview(a, 'preview_video_target.mp4'),
  premium: false,
  type: null,
  tags: null,
  default_voice_id: a.voice,
}));

export const TALKING_PHOTOS = [
  {
    talking_photo_id: SEED.talkingPhoto,
    talking_photo_name: 'Founder headshot',
    preview_image_url: `${FILES}/talking_photo/${SEED.talkingPhoto}/preview.webp`,
  },
];

/** `GET /v3/avatars/looks` items: a look id is what generate-video takes as avatar_id. */
export const V3_LOOKS = AVATARS.map((a) => ({
  id: a.id,
  name: a.name,
  avatar_type: 'studio_avatar',
  group_id: SEED.avatarGroup,
  preview_image_url: preview(a, 'preview_target.webp'),
  preview_video_url: preview(a, 'preview_video_target.mp4'),
  gender: a.gender,
  tags: ['professional'],
  default_voice_id: a.voice,
  supported_api_engines: ['avatar_iv', 'avatar_v'],
  image_width: 1920,
  image_height: 1080,
  preferred_orientation: 'landscape',
  status: 'completed',
}));

/** `GET /v3/avatars` items (avatar groups, "characters"). */
export const V3_GROUPS = [
  {
    id: SEED.avatarGroup,
    name: 'Studio presenters',
    preview_image_url: preview(AVATARS[0]!, 'preview_target.webp'),
    preview_video_url: preview(AVATARS[0]!, 'preview_video_target.mp4'),
    gender: 'female',
    created_at: 1732012345,
    looks_count: AVATARS.length,
    default_voice_id: VOICE_IDS[0],
    consent_status: 'approved',
    status: 'completed',
  },
];

/** `GET /v2/avatar_group.list` items. */
export const V2_GROUPS = [
  {
    id: SEED.avatarGroup,
    name: 'Studio presenters',
    created_at: 1732012345,
    num_looks: AVATARS.length,
    preview_image: preview(AVATARS[0]!, 'preview_target.webp'),
    group_type: 'PUBLIC_PHOTO',
    train_status: 'ready',
    default_voice_id: VOICE_IDS[0],
  },
];

/** `GET /v2/avatar/{id}/details`. */
export function avatarDetails(id: string): Record<string, unknown> {
  const a = AVATARS.find((x) => x.id === id) ?? { ...AVATARS[0]!, id, name: id };
  return {
    type: 'avatar',
    id: a.id,
    name: a.name,
    gender: a.gender,
    preview_image_url: preview(a, 'preview_target.webp'),
    preview_video_url: preview(a, 'preview_video_target.mp4'),
    premium: false,
    is_public: true,
    default_voice_id: a.voice,
    tags: ['AVATAR_IV'],
  };
}

interface VoiceFixture {
  id: string;
  name: string;
  gender: string;
}

const VOICES: VoiceFixture[] = [
  { id: VOICE_IDS[0], name: 'Sara - Cheerful', gender: 'female' },
  { id: VOICE_IDS[1], name: 'Paul - Natural', gender: 'male' },
];

const voicePreview = (id: string): string => `https://resource.heygen.ai/text_to_speech/${id}/preview.mp3`;

/** `GET /v2/voices` items. */
export const V2_VOICES = VOICES.map((v) => ({
  voice_id: v.id,
  language: 'English',
  gender: v.gender,
  name: v.name,
  preview_audio: voicePreview(v.id),
  support_pause: true,
  emotion_support: false,
  support_interactive_avatar: true,
}));

/** `GET /v3/voices` items. */
export const V3_VOICES = VOICES.map((v) => ({
  voice_id: v.id,
  name: v.name,
  language: 'English',
  gender: v.gender,
  preview_audio_url: voicePreview(v.id),
  support_pause: true,
  support_locale: true,
  type: 'public',
}));

export const TEMPLATES = [
  {
    template_id: SEED.template,
    name: 'Product announcement',
    thumbnail_image_url: `${FILES}/template/${SEED.template}/thumbnail.jpeg`,
    aspect_ratio: 'landscape',
  },
];

/** `GET /v2/template/{id}`: the variables a render may replace. */
export function templateDetail(id: string): Record<string, unknown> {
  return {
    template_id: id,
    name: TEMPLATES[0]!.name,
    variables: {
      headline: { name: 'headline', type: 'text', properties: { content: 'Meet our new product' } },
      script: { name: 'script', type: 'text', properties: { content: 'Hello! Here is what is new this month.' } },
      presenter: { name: 'presenter', type: 'character', properties: { character_id: AVATAR_IDS[0], type: 'avatar' } },
    },
  };
}

export const TRANSLATE_LANGUAGES = ['English', 'Spanish', 'French', 'German', 'Italian', 'Portuguese', 'Japanese', 'Korean', 'Chinese', 'Hindi'];

export const WEBHOOK_EVENTS = [
  'avatar_video.success',
  'avatar_video.fail',
  'avatar_video_gif.success',
  'avatar_video_gif.fail',
  'video_translate.success',
  'video_translate.fail',
  'personalized_video',
];

export const STREAMING_AVATARS = AVATARS.map((a) => ({
  avatar_id: a.id,
  created_at: 1732012345,
  is_public: true,
  status: 'ACTIVE',
}));

/** `GET /v3/users/me` data (also `/v1/user/me` inside the v1 envelope). */
export const USER = {
  username: 'sandbox',
  email: 'sandbox@example.com',
  first_name: 'Sandbox',
  last_name: 'User',
  billing_type: 'wallet',
  wallet: { currency: 'usd', remaining_balance: 120.5, auto_reload: { enabled: false } },
  subscription: {
    plan: 'creator',
    credits: {
      premium_credits: { remaining: 600, resets_at: '2027-01-01T00:00:00Z' },
      add_on_credits: { remaining: 0, resets_at: null },
    },
  },
};

export const REMAINING_QUOTA = {
  remaining_quota: 2344452,
  details: { api: 2344452, streaming_avatar: 0, streaming_avatar_instance_quota: 0, seat: 0 },
};
