"""The platform: helpers every app builds on, apart from the customer core.

Nothing here imports the customer core (crm.models' customers, contacts, pools...); an app that needs
paging, spreadsheets, the task outbox, search text, the audit trail or a lookup imports it from here.

- paging: keyset pages and capped counts;       - xlsx: spreadsheet downloads, safe cells;
- queue (+ models): the task outbox;               - forked: work in a forked child process;
- text: search text, pinyin, phone numbers;       - audit: what changed (accounts.history reads it);
- lookups: `like` and `any_of` (= ANY(ARRAY));    - durations: "2 个月前", "已超期 9 天";
- ratelimit, cache: Redis that fails soft;        - timezones: the user's zone.
"""
