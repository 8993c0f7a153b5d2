// Stripe's cursor pagination, walked for the caller: ask for a page, hand out its items, and while
// the server says more follow, ask for the page after the last item's id.

export interface Page<Item> {
  readonly items: readonly Item[];
  readonly hasMore: boolean;
}

export async function* paginate<Item>(fetchPage: (startingAfter: string | undefined) => Promise<Page<Item>>): AsyncGenerator<Item> {
  let startingAfter: string | undefined;
  for (;;) {
    const page = await fetchPage(startingAfter);
    yield* page.items;
    if (!page.hasMore) return;
    const last = page.items.at(-1) as { id?: unknown } | undefined;
    // A page said to have more yet ending in no id would be asked for again and again.
    if (typeof last?.id !== 'string' && typeof last?.id !== 'number') throw new TypeError('paginate: has_more with no last item id to continue after');
    startingAfter = String(last.id);
  }
}
