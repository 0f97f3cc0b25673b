// Test data: users, categories and acts made through the API itself.
import type { Api } from './client.ts';
import { sha1 } from './client.ts';
import { expectReply } from './fixture.ts';

export const PASSWORD = sha1('correct horse battery staple');

export async function addUser(users: Api, username: string, password = PASSWORD): Promise<void> {
  expectReply(await users.post('/api/v1/users', { username, password }), 201, {});
}

export async function addCategory(acts: Api, name: string): Promise<void> {
  expectReply(await acts.post('/api/v1/categories', [name]), 201, {});
}

export interface ActBody {
  actId: number | bigint;
  username: string;
  timestamp: string;
  caption: string;
  categoryName: string;
  imgB64: string;
}

export const IMG_B64 = Buffer.from('not really an image, and row 15 does not mind').toString('base64');

export function actBody(base: Pick<ActBody, 'actId' | 'username' | 'categoryName'> & Partial<ActBody>): ActBody {
  return { timestamp: '15-06-2021:30-45-12', caption: 'helped a neighbour', imgB64: IMG_B64, ...base };
}

export async function addAct(acts: Api, body: ActBody): Promise<void> {
  expectReply(await acts.post('/api/v1/acts', body), 201, {});
}

/** The path segment for a name: URL-encoded, dots too (URL parsers resolve `.` and `..`). */
export const seg = (name: string) => encodeURIComponent(name).replaceAll('.', '%2E');
