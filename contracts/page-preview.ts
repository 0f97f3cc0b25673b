// What a service says of one of its pages for a link preview: the JSON an app answers at
// `balancer.previews.source` + the address, and the balancer writes into the page's Open Graph
// and Twitter tags (supervisor/balancer/share-page.ts checks it; app/http/page-preview.ts makes
// SelfLessActs' own). The one declaration both sides share, as logging/ is for the log schema.

export interface PreviewImage {
  /** A path on this site (made absolute with the page's origin). */
  url: string;
  type: string;
  width: number;
  height: number;
  alt: string;
}

export interface PagePreview {
  title: string;
  description: string;
  type: 'article' | 'profile' | 'website';
  image?: PreviewImage;
  /** Twitter's card: a wide photo gets the large one. */
  card: 'summary' | 'summary_large_image';
}
