// "Newest · Most upvoted": the order a feed is read in, as two links that change the address's
// `order` (so a reload or a shared link keeps it); the one in force is marked as the current.
import { h } from '../dom.js';

/** The order an address asks for: 'popular' or the default 'newest'. */
export function orderOf(query) {
  return query?.get('order') === 'popular' ? 'popular' : 'newest';
}

/**
 * @param {'newest' | 'popular'} current
 * @param {(order: 'newest' | 'popular') => string} hrefFor the address of the same page in that order
 */
export function orderToggle(current, hrefFor) {
  const link = (order, label) =>
    h('a.order-link', { href: hrefFor(order), ...(order === current ? { 'aria-current': 'true' } : {}) }, label);
  return h('nav.order-toggle', { 'aria-label': 'Order' }, link('newest', 'Newest'), link('popular', 'Most upvoted'));
}

/** A hash route with `order` set (and nothing for the default). */
export function withOrder(path, params, order) {
  const query = new URLSearchParams(params);
  if (order === 'popular') query.set('order', 'popular');
  const text = query.toString();
  return `#${path}${text ? `?${text}` : ''}`;
}
