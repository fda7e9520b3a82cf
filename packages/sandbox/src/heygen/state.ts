// The mutable part of one HeyGen fake: video and translation jobs, webhook endpoints, assets,
// photo avatars. One instance per sandbox.
import { hexId, unixNow } from '../http.ts';
import { JobStore } from '../jobs.ts';
import { SEED, WEBHOOK_EVENTS } from './data.ts';

export interface Video {
  title: string | null;
  callbackId: string | null;
  folderId: string | null;
  /** Which API made it; the legacy list calls v2/template renders "GENERATED". */
  source: 'v3' | 'v2' | 'v2-videos' | 'template' | 'agent';
}

export interface Translation {
  title: string;
  videoUrl: string;
  outputLanguage: string;
  inputLanguage: string;
  callbackId: string | null;
  audioOnly: boolean;
}

export interface WebhookEndpoint {
  endpoint_id: string;
  url: string;
  events: string[];
  status: string;
  secret: string;
  created_at: string;
  username: string;
}

export interface Asset {
  id: string;
  name: string;
  file_type: string;
  mime_type: string;
  size_bytes: number;
  created_ts: number;
}

export interface PhotoAvatar {
  name: string;
  imageKey: string;
  groupId: string;
}

const LIMIT = 1000;

export class HeyGenState {
  readonly videos = new JobStore<Video>();
  readonly translations = new JobStore<Translation>();
  readonly photoAvatars = new JobStore<PhotoAvatar>();
  readonly webhooks = new Map<string, WebhookEndpoint>();
  readonly assets = new Map<string, Asset>();

  constructor() {
    const longAgo = Date.parse('2024-11-19T10:32:25Z');
    this.videos.create(SEED.video, 0, { title: 'Welcome video', callbackId: 'order-1234', folderId: null, source: 'v2' }, false, longAgo);
    this.translations.create(
      SEED.videoTranslate,
      0,
      {
        title: 'New Video',
        videoUrl: 'https://example.com/source.mp4',
        outputLanguage: 'Spanish',
        inputLanguage: 'English',
        callbackId: null,
        audioOnly: false,
      },
      false,
      longAgo,
    );
    this.photoAvatars.create(SEED.photoAvatar, 0, { name: 'Founder', imageKey: `image/${SEED.asset}/original.jpg`, groupId: SEED.avatarGroup }, false, longAgo);
    this.addWebhook('https://example.com/heygen-webhook', WEBHOOK_EVENTS.slice(0, 2), SEED.webhookEndpoint);
    this.addAsset({ id: SEED.asset, name: SEED.asset, file_type: 'image', mime_type: 'image/jpeg', size_bytes: 48213, created_ts: 1722360649 });
  }

  addWebhook(url: string, events: string[], id = hexId()): WebhookEndpoint {
    const e: WebhookEndpoint = {
      endpoint_id: id,
      url,
      events,
      status: 'enabled',
      secret: `whsec_${hexId(16)}`,
      created_at: new Date().toISOString(),
      username: 'sandbox',
    };
    this.webhooks.set(id, e);
    if (this.webhooks.size > LIMIT) this.webhooks.delete(this.webhooks.keys().next().value!);
    return e;
  }

  addAsset(a: Asset): void {
    this.assets.set(a.id, a);
    if (this.assets.size > LIMIT) this.assets.delete(this.assets.keys().next().value!);
  }

  newAsset(name: string, mime: string, size: number): Asset {
    const id = hexId();
    const fileType = mime.split('/')[0] ?? 'file';
    const a: Asset = { id, name, file_type: fileType, mime_type: mime, size_bytes: size, created_ts: unixNow() };
    this.addAsset(a);
    return a;
  }
}
