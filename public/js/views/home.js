// Home: every category with its act count (row 7), a form to add one (row 8), and the latest
// acts over all categories (rows 16 and 19).
import * as api from '../api.js';
import { h, icon, showError, toast } from '../dom.js';
import { gallery } from '../gallery.js';
import { plural } from '../format.js';
import { actCard } from './act-card.js';

const LATEST = 6;

export async function render(section) {
  document.title = 'SelfLessActs · small kindnesses, shared';
  const list = h('ul.category-grid', { 'aria-busy': 'true' });
  const latest = h('div.act-grid');
  section.append(
    h(
      'div.hero',
      {},
      h('h1', {}, 'Small kindnesses, shared.'),
      h(
        'p',
        {},
        'Photos of the good things people do for each other. Browse a category, upvote what moves you, and share your own.',
      ),
    ),
    h('div.section-head', {}, h('h2#categories-title', {}, 'Categories'), addCategoryForm(section)),
    list,
    h(
      'div.section-head',
      {},
      h('h2', {}, 'Latest acts'),
      h('a.see-all', { href: '#/latest' }, 'See all ', icon('next')),
    ),
    latest,
  );
  await Promise.all([fillCategories(list), fillLatest(latest)]);
}

async function fillCategories(list) {
  const counts = await api.categories();
  if (!list.isConnected) return;
  list.removeAttribute('aria-busy');
  const names = Object.keys(counts).sort((a, b) => a.localeCompare(b));
  if (names.length === 0) {
    list.replaceWith(
      h(
        'div.empty.empty-categories',
        {},
        h('p', {}, 'No categories yet. Add the first one above — “Helping neighbours”, perhaps?'),
      ),
    );
    return;
  }
  list.replaceChildren(
    ...names.map((name, i) =>
      h(
        'li',
        {},
        h(
          'a.category-card',
          { href: `#/c/${encodeURIComponent(name)}`, style: { '--tint': String(i % 6) } },
          h('span.category-name', {}, name),
          ' ',
          h('span.category-count', {}, plural(Number(counts[name]), 'act')),
        ),
      ),
    ),
  );
}

async function fillLatest(grid) {
  const total = await api.totalActs();
  if (!grid.isConnected) return;
  if (total === 0) {
    grid.replaceWith(
      h('div.empty', {}, h('p', {}, 'No acts shared yet. ', h('a', { href: '#/upload' }, 'Share the first one'), '.')),
    );
    return;
  }
  const acts = await api.latestActs(1, Math.min(total, LATEST));
  if (!grid.isConnected) return;
  grid.replaceChildren(...acts.map((act, i) => actCard(act, { showCategory: true, first: i === 0 })));
  gallery.set(acts);
}

function addCategoryForm(section) {
  const input = h('input#new-category', {
    name: 'category',
    required: true,
    autocomplete: 'off',
    placeholder: 'New category',
  });
  const error = h('p.form-error', { role: 'alert', hidden: true });
  const form = h(
    'form.inline-form',
    {
      onsubmit: async (e) => {
        e.preventDefault();
        const name = input.value.trim();
        if (!name) {
          showError(error, 'Give the category a name.');
          return;
        }
        showError(error, '');
        try {
          await api.addCategory(name);
          toast(`Category “${name}” added.`);
          input.value = '';
          if (section.isConnected) {
            const fresh = h('section.view');
            section.replaceWith(fresh);
            await render(fresh);
            fresh.querySelector('#new-category')?.focus();
          }
        } catch (err) {
          const names = await api.categories().catch(() => ({}));
          // In owner mode a name that differs only in case is the same category.
          const twin = name in names ? name : Object.keys(names).find((n) => n.toLowerCase() === name.toLowerCase());
          showError(error, twin !== undefined ? `There is already a category called “${twin}”.` : err.message);
        }
      },
    },
    h('label.visually-hidden', { for: 'new-category' }, 'New category name'),
    input,
    h('button.button', { type: 'submit' }, 'Add category'),
    error,
  );
  return form;
}
