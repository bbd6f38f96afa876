// An example client of bantin: the front page (latest articles with their people
// and organizations, paginated with cursors), an article page (its photos and
// captions, its people's titles on the day), and search with highlighted snippets.
// It talks to bantin from another origin: start bantin with this page's origin in
// BANTIN_CORS_ORIGINS, and point the page at it with `?api=` (see README.md).

const API = new URLSearchParams(window.location.search).get('api') || 'http://127.0.0.1:8000/graphql';

async function graphql(query, variables = {}) {
  const response = await fetch(API, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json;q=0.9',
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors && body.errors.length) {
    throw new Error(body.errors.map((error) => error.message).join('; '));
  }
  return body.data;
}

const FRONT_PAGE = /* GraphQL */ `query FrontPage($after: String) {
  articles(first: 10, after: $after) {
    nodes { slug title summary publishedAt people { name } organizations { name } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const ARTICLE = /* GraphQL */ `query ArticlePage($slug: String!) {
  article(slug: $slug) {
    title publishedAt paragraphs
    media { url caption credit afterParagraph }
    people { slug }
  }
}`;

const TITLES = /* GraphQL */ `query TitlesOnTheDay($slug: String!, $day: Date!) {
  article(slug: $slug) {
    people { name positions(at: $day) { title organization { name } } }
  }
}`;

const SEARCH = /* GraphQL */ `query Search($query: String!) {
  search(query: $query, first: 10) {
    totalCount
    edges {
      snippet
      node {
        __typename
        ... on Article { title slug }
        ... on Person { name }
        ... on Organization { name }
        ... on Event { name }
        ... on Document { code title }
      }
    }
  }
}`;

const view = document.getElementById('view');

/** An element with text (never HTML) and children. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

/** The day of an instant in Vietnam (UTC+07:00), as bantin's `Date`. */
function vietnamDay(instant) {
  return new Date(new Date(instant).getTime() + 7 * 3600 * 1000).toISOString().slice(0, 10);
}

function dateline(instant) {
  return new Date(instant).toLocaleString('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', dateStyle: 'full', timeStyle: 'short' });
}

function names(list) {
  return list.map((item) => item.name).join(', ');
}

async function frontPage(after = null, into = null) {
  const data = await graphql(FRONT_PAGE, { after });
  const list = into || el('section', { id: 'front' });
  if (!into) view.replaceChildren(list);
  list.querySelector('button.more')?.remove();
  for (const article of data.articles.nodes) {
    list.append(el('article', { class: 'teaser' },
      el('h2', {}, el('a', { href: `#/article/${encodeURIComponent(article.slug)}` }, article.title)),
      el('p', { class: 'meta' }, dateline(article.publishedAt)),
      el('p', {}, article.summary || ''),
      el('p', { class: 'people' }, [names(article.people), names(article.organizations)].filter(Boolean).join(' · '))));
  }
  const page = data.articles.pageInfo;
  if (page.hasNextPage) {
    const more = el('button', { class: 'more', type: 'button' }, 'Tin cũ hơn');
    more.addEventListener('click', () => frontPage(page.endCursor, list).catch(failed));
    list.append(more);
  }
}

async function articlePage(slug) {
  const { article } = await graphql(ARTICLE, { slug });
  if (!article) {
    view.replaceChildren(el('p', { class: 'error' }, 'Không tìm thấy bài viết.'));
    return;
  }
  const { article: onTheDay } = await graphql(TITLES, { slug, day: vietnamDay(article.publishedAt) });
  const page = el('article', { id: 'article' }, el('h1', {}, article.title), el('p', { class: 'meta' }, dateline(article.publishedAt)));
  const figure = (media) => el('figure', {},
    /^https?:/.test(media.url) ? el('img', { src: media.url, alt: media.caption || '' }) : el('div', { class: 'photo' }, 'Ảnh'),
    el('figcaption', {}, [media.caption, media.credit].filter(Boolean).join(' — ')));
  article.paragraphs.forEach((paragraph, index) => {
    for (const media of article.media.filter((m) => (m.afterParagraph ?? 0) === index)) page.append(figure(media));
    page.append(el('p', {}, paragraph));
  });
  for (const media of article.media.filter((m) => (m.afterParagraph ?? 0) >= article.paragraphs.length)) page.append(figure(media));
  const people = el('ul', { class: 'people', id: 'people' });
  for (const person of onTheDay.people) {
    const titles = person.positions.map((p) => [p.title, p.organization?.name].filter(Boolean).join(', ')).join('; ');
    people.append(el('li', {}, titles ? `${person.name}: ${titles}` : person.name));
  }
  page.append(el('h2', {}, 'Nhân vật trong bài'), people);
  view.replaceChildren(page);
}

async function searchPage(query) {
  const data = await graphql(SEARCH, { query });
  const results = el('section', { id: 'results' }, el('p', { class: 'meta' }, `${data.search.totalCount} kết quả cho “${query}”`));
  for (const edge of data.search.edges) {
    const node = edge.node;
    const label = node.title || node.name || node.code;
    const heading = node.__typename === 'Article'
      ? el('a', { href: `#/article/${encodeURIComponent(node.slug)}` }, label)
      : label;
    const snippet = el('p', { class: 'snippet' });
    // bantin escapes the text and marks the matches with <mark>: safe as HTML.
    snippet.innerHTML = edge.snippet;
    results.append(el('article', { class: 'teaser' }, el('h2', {}, heading), snippet));
  }
  view.replaceChildren(results);
}

function failed(error) {
  view.replaceChildren(el('p', { class: 'error' }, `Lỗi: ${error.message}`));
}

function route() {
  const hash = decodeURIComponent(window.location.hash.slice(1));
  const [, what, rest] = hash.match(/^\/([a-z]*)\/?(.*)$/) || [];
  const run = what === 'article' ? articlePage(rest) : what === 'search' ? searchPage(rest) : frontPage();
  run.catch(failed);
}

document.getElementById('search').addEventListener('submit', (event) => {
  event.preventDefault();
  const query = new FormData(event.target).get('q').trim();
  if (query) window.location.hash = `#/search/${encodeURIComponent(query)}`;
});
window.addEventListener('hashchange', route);
route();
