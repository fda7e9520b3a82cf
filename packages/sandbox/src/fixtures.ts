// Ids the fakes always know, by path parameter name: for examples, demos and tests that need
// an `{id}` endpoint to find something (CATALOG §3 point 10 ids where the providers publish them).
import { DUBBING_ID, HISTORY_ITEM_ID, PUBLIC_USER_ID, SHARED_VOICE_ID, TRANSCRIPTION_ID, VOICE_IDS } from './elevenlabs/data.ts';
import { AVATAR_IDS, SEED, VOICE_IDS as HEYGEN_VOICE_IDS } from './heygen/data.ts';

export const FIXTURE_IDS = {
  elevenlabs: {
    voice_id: VOICE_IDS.george,
    voice_ids: VOICE_IDS,
    model_id: 'eleven_multilingual_v2',
    history_item_id: HISTORY_ITEM_ID,
    dubbing_id: DUBBING_ID,
    language_code: 'es',
    transcription_id: TRANSCRIPTION_ID,
    public_user_id: PUBLIC_USER_ID,
    shared_voice_id: SHARED_VOICE_ID,
  },
  heygen: {
    avatar_id: AVATAR_IDS[0],
    avatar_ids: AVATAR_IDS,
    voice_id: HEYGEN_VOICE_IDS[0],
    voice_ids: HEYGEN_VOICE_IDS,
    video_id: SEED.video,
    video_translate_id: SEED.videoTranslate,
    video_translation_id: SEED.videoTranslate,
    template_id: SEED.template,
    group_id: SEED.avatarGroup,
    talking_photo_id: SEED.talkingPhoto,
    photo_avatar_id: SEED.photoAvatar,
    endpoint_id: SEED.webhookEndpoint,
    asset_id: SEED.asset,
  },
} as const;
