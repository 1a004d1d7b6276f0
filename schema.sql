-- webex-space-archive: the archive database (archive.db), schema version 1.
--
-- This file is the single source of truth for the archive's shape. It is applied, as is, every
-- time an archive is opened for writing: every statement is idempotent (IF NOT EXISTS), so
-- re-applying it changes nothing. The version lives in meta.schema_version; changes that
-- IF NOT EXISTS cannot express are forward migrations in etl/store/database.py, and this file
-- is then edited to show the result: a nullable or defaulted column added to a table (which
-- older code reading the archive ignores) is added where missing at every open
-- (ADDED_COLUMNS), other changes (a changed view, a new meaning) raise the version.
--
-- Conventions, for anyone querying with sqlite3, sqlite-utils or Datasette:
--   * Times are text in the Webex API's own form, UTC: 'YYYY-MM-DDTHH:MM:SS.mmmZ'. They sort
--     lexically, so `created >= '2024-01-01'` and `ORDER BY created` do what you expect.
--     Our own bookkeeping times (*_seen_at, *_synced_at, fetched_at, ...) use the same form.
--     Webex's documentation also shows '+00:00' without milliseconds: whatever ISO 8601 form
--     it sends, the sync writes the time in this form (docs/undocumented.md).
--   * Ids are the API's opaque ids (base64 of 'ciscospark://us/<TYPE>/<uuid>').
--   * Booleans are INTEGER 0/1; NULL means the API did not send the field.
--   * JSON columns hold compact JSON text: use json_each()/json_extract() on them.
--   * raw is the object exactly as the API returned it (JSON text): fields we have no column
--     for are still there, and times in the form Webex sent them.
--   * Nothing is ever removed: a message deleted in Webex keeps its row and content and gets
--     deleted_at; a member who left keeps the row and gets left_at.

-- Key/value facts about the archive itself.
--   schema_version  the version of this schema the file was written with (an integer as text)
--   archive_id      a random id given once, when the archive is made (or first opened by a
--                   version that names archives): render's custody manifests cite it
--   me_id, me_email, me_name, me_org_id, me_json
--                   who synced: the token's own person (GET /people/me) at the last sync;
--                   people outside me_org_id (or me_email's domain) are "external"
--   events_checkpoint  a compliance officer's sync: the time up to which the events feed was
--                   read completely (set with the feed's last page); see the events table
--   learnt_rate, learnt_rate_at  the pace (requests a minute) a sync learnt from Webex's 429
--                   answers, and when: later syncs start paced at it for a week
--                   (sync --relearn-rate forgets it; etl/pacing.py)
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT
);

-- One row per Webex space (API: room), as last listed.
CREATE TABLE IF NOT EXISTS spaces (
    id                   TEXT PRIMARY KEY,
    title                TEXT,     -- for direct spaces: the other person's display name
    type                 TEXT,     -- 'direct' | 'group'
    is_locked            INTEGER,  -- moderated space
    team_id              TEXT,
    last_activity        TEXT,     -- time of the newest activity, per the API
    creator_id           TEXT,     -- people.id of the creator
    created              TEXT,
    owner_id             TEXT,     -- the owning ORGANIZATION's id (not a person)
    is_public            INTEGER,
    is_read_only         INTEGER,  -- set by a compliance officer
    is_announcement_only INTEGER,
    classification_id    TEXT,
    description          TEXT,
    made_public          TEXT,     -- when the space was made public
    -- Folder name of this space inside the archive dir (its files, avatars and rendered
    -- output). Chosen once, filesystem-safe, never changed afterwards even if the title
    -- changes; unique ignoring ASCII case (case-insensitive file systems). NULL until chosen.
    folder               TEXT COLLATE NOCASE UNIQUE,
    raw                  TEXT NOT NULL,
    first_synced_at      TEXT,     -- first sync that saw this space
    last_synced_at       TEXT,     -- last sync that saw this space
    -- The oldest history asked for (--since/--days/--last, widened by later runs that ask
    -- for more); later runs without such options stop there. NULL: all history.
    sync_since           TEXT,
    last_sync_status     TEXT,     -- 'ok' | 'failed': how this space's last sync ended
    last_sync_error      TEXT,     -- the one-line error when it failed
    -- The message page size (max) that works for this space, when Webex answered 504 to
    -- larger pages (etl/paging.py); NULL: the sync's own size works. Tried larger again a
    -- week after page_size_at.
    page_size            INTEGER,
    page_size_at         TEXT,     -- when page_size was last learnt or confirmed
    -- When the members were last listed. A space whose lastActivity did not move has its
    -- members listed again once this is older than the sync's stale_days (7): Webex does not
    -- say whether a member joining or leaving moves lastActivity.
    members_listed_at    TEXT
);

-- People: authors, members, mentioned people (API: GET /people?id=...).
CREATE TABLE IF NOT EXISTS people (
    id           TEXT PRIMARY KEY,
    email        TEXT,              -- the first of emails
    emails       TEXT,              -- JSON array of all email addresses
    display_name TEXT,
    nick_name    TEXT,
    first_name   TEXT,
    last_name    TEXT,
    avatar       TEXT,              -- avatar URL, as Webex gave it (see avatars for the file)
    org_id       TEXT,
    type         TEXT,              -- 'person' | 'bot' | 'appuser'
    created      TEXT,
    raw          TEXT,              -- NULL for not_found rows
    -- 1: Webex answered this id in notFoundIds (a deleted or foreign account). The row was
    -- built from what messages and memberships say (email, display name) so that names
    -- still show; the data of an earlier successful fetch, if any, is kept.
    not_found    INTEGER NOT NULL DEFAULT 0,
    fetched_at   TEXT               -- when we last asked Webex about this person (staleness)
);

-- Members of each space, as listed at each sync.
CREATE TABLE IF NOT EXISTS memberships (
    id                  TEXT PRIMARY KEY,
    space_id            TEXT NOT NULL REFERENCES spaces (id),
    person_id           TEXT,       -- people.id (not enforced: the person may be unknown)
    person_email        TEXT,
    person_display_name TEXT,
    person_org_id       TEXT,
    is_moderator        INTEGER,
    is_monitor          INTEGER,    -- deprecated by Webex
    is_room_hidden      INTEGER,    -- a direct space hidden in the member's clients
    created             TEXT,       -- when the person joined
    raw                 TEXT NOT NULL,
    first_seen_at       TEXT NOT NULL,
    last_seen_at        TEXT NOT NULL,  -- last sync whose listing contained this membership
    left_at             TEXT            -- set when a listing no longer contains it; else NULL
);

-- Messages, every API field as a column. Thread replies are rows like any other, with
-- parent_id set. Content is never removed (see deleted_at and message_revisions).
CREATE TABLE IF NOT EXISTS messages (
    id               TEXT PRIMARY KEY,
    space_id         TEXT NOT NULL REFERENCES spaces (id),  -- API: roomId
    room_type        TEXT,      -- 'direct' | 'group'
    parent_id        TEXT,      -- the thread's first message, for replies; NULL otherwise
    person_id        TEXT,      -- author (people.id, not enforced)
    person_email     TEXT,      -- author's email at the time
    text             TEXT,      -- plain text (the plain rendering of markdown posts)
    markdown         TEXT,      -- present if posted as markdown
    html             TEXT,      -- the API's HTML rendering (untrusted: sanitise before display)
    files            TEXT,      -- JSON array of attachment URLs; see the files table
    attachments      TEXT,      -- JSON array of cards (adaptive cards)
    mentioned_people TEXT,      -- JSON array of people ids
    mentioned_groups TEXT,      -- JSON array of group names, e.g. ["all"]
    is_voice_clip    INTEGER,
    created          TEXT NOT NULL,
    updated          TEXT,      -- present only if the author edited the message
    raw              TEXT NOT NULL,
    first_seen_at    TEXT NOT NULL,  -- first sync that saw it
    last_seen_at     TEXT NOT NULL,  -- last sync that saw it
    -- Set when a complete re-read of the part of history holding this message no longer
    -- returned it (deleted in Webex), or, for a compliance officer's archive, to the time
    -- of its deletion event (see events). Its content is kept; NULL while it exists.
    deleted_at       TEXT
);
CREATE INDEX IF NOT EXISTS messages_parent ON messages (parent_id);
CREATE INDEX IF NOT EXISTS messages_person ON messages (person_id);
-- A space's messages in time order (filters on space_id and created use it), with the ids
-- that threading needs, so render's message window (render/window.py) reads this index
-- alone, touching no message row.
CREATE INDEX IF NOT EXISTS messages_space_order ON messages (space_id, created, id, parent_id);
-- An index of earlier builds: messages_space_order starts with the same columns, and each
-- index costs every insert (issue 7).
DROP INDEX IF EXISTS messages_space_created;
-- Messages stored undecrypted (an "errors" object from a key-server failure, webex-api.md
-- §7.2): few, and every sync asks for them again. A scan of every row's raw JSON found them
-- (about 2 s per sync of a 1,000,000-message space); this index holds just those rows. Queries
-- must repeat its WHERE terms to use it (etl/byid.py UNDECRYPTED).
CREATE INDEX IF NOT EXISTS messages_undecrypted ON messages (space_id)
WHERE deleted_at IS NULL AND instr(raw, '"errors"') > 0;
-- The people that messages mention, for the people refresh at the end of every sync
-- (etl/store/writers.py people_to_fetch): only messages that mention someone, and only the list,
-- so the refresh reads this index, not every message (1.7 s at 1,000,000 messages).
CREATE INDEX IF NOT EXISTS messages_mentions ON messages (mentioned_people)
WHERE mentioned_people IS NOT NULL;
-- Messages deleted in Webex, per space, for `webex-archive status` (webex_archive/status.py):
-- few rows, so counting them reads no message.
CREATE INDEX IF NOT EXISTS messages_deleted ON messages (space_id) WHERE deleted_at IS NOT NULL;

-- Earlier versions of edited messages. The current version is in messages; each time a sync
-- sees a changed message, the stored version is copied here first.
CREATE TABLE IF NOT EXISTS message_revisions (
    message_id  TEXT NOT NULL REFERENCES messages (id),
    revision    INTEGER NOT NULL,  -- 1 = the oldest version we have, then 2, 3, ...
    text        TEXT,
    markdown    TEXT,
    html        TEXT,
    files       TEXT,              -- JSON array, as in messages
    attachments TEXT,              -- JSON array, as in messages
    updated     TEXT,              -- the `updated` this version had; NULL for the original
    raw         TEXT,
    replaced_at TEXT NOT NULL,     -- when a sync noticed that it had been replaced
    PRIMARY KEY (message_id, revision)
);

-- One row per attachment URL of a message (messages.files[position]).
CREATE TABLE IF NOT EXISTS files (
    url           TEXT NOT NULL,     -- https://webexapis.com/v1/contents/<content_id>
    message_id    TEXT NOT NULL REFERENCES messages (id),
    space_id      TEXT NOT NULL REFERENCES spaces (id),
    position      INTEGER NOT NULL,  -- index in the message's files array, from 0
    content_id    TEXT,              -- last path segment of url
    name          TEXT,              -- from Content-Disposition (untrusted)
    content_type  TEXT,
    size          INTEGER,           -- bytes
    -- 'pending'     nothing known yet beyond the URL
    -- 'info'        name, type and size known (HEAD), bytes not downloaded
    -- 'downloaded'  bytes saved at local_path
    -- 'failed'      the last attempt failed (see error); worth retrying
    -- 'gone'        404: the file or its message was deleted
    -- 'infected'    410: the malware scan found it infected; Webex will not serve it
    -- 'unscannable' 428: cannot be scanned (e.g. encrypted); needs allow=unscannable
    status        TEXT NOT NULL DEFAULT 'pending',
    error         TEXT,              -- the last error, for 'failed' and friends
    local_path    TEXT,              -- relative to the archive dir, '/'-separated
    sha256        TEXT,              -- hex digest of the downloaded bytes
    downloaded_at TEXT,
    checked_at    TEXT,              -- when we last asked Webex about this file
    PRIMARY KEY (message_id, position)
);
CREATE INDEX IF NOT EXISTS files_url ON files (url);
CREATE INDEX IF NOT EXISTS files_space ON files (space_id);

-- Spans of each space's history known to be complete: every message from oldest to newest
-- (inclusive, in the API's newest-first order) is in messages. A sync walks down from the
-- newest message and skips whatever a span already covers. Spans of one space never overlap;
-- they merge when a walk joins them.
CREATE TABLE IF NOT EXISTS coverage (
    id             INTEGER PRIMARY KEY,
    space_id       TEXT NOT NULL REFERENCES spaces (id),
    newest_id      TEXT NOT NULL,   -- messages.id of the span's newest message
    newest_created TEXT NOT NULL,
    oldest_id      TEXT NOT NULL,   -- messages.id of the span's oldest message
    oldest_created TEXT NOT NULL,
    reaches_start  INTEGER NOT NULL DEFAULT 0  -- 1: oldest is the space's very first message
);
CREATE INDEX IF NOT EXISTS coverage_space ON coverage (space_id);

-- Avatars downloaded into a space's folder (sync --avatars download), one per author and
-- space, so that each space folder is complete on its own. Re-fetched when the URL changes.
CREATE TABLE IF NOT EXISTS avatars (
    space_id   TEXT NOT NULL REFERENCES spaces (id),
    person_id  TEXT NOT NULL,
    url        TEXT NOT NULL,      -- the avatar URL it was downloaded from
    local_path TEXT NOT NULL,      -- relative to the archive dir, '/'-separated
    sha256     TEXT,
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (space_id, person_id)
);

-- Messages Webex would not give us by id (GET /messages/{id} answered 404), typically the
-- deleted parent of a thread reply. Recorded so that every sync does not ask again; --full
-- asks again.
CREATE TABLE IF NOT EXISTS unavailable_messages (
    id         TEXT PRIMARY KEY,
    space_id   TEXT NOT NULL REFERENCES spaces (id),
    status     INTEGER NOT NULL,  -- the HTTP status Webex answered
    checked_at TEXT NOT NULL
);

-- The organisation's change feed (GET /v1/events), as a compliance officer's sync read it:
-- every event of a space the archive keeps, exactly as Webex sent it, for audit. Only a
-- compliance officer's token can read the feed (docs/compliance.md); meta.events_checkpoint
-- says how far it has been read.
CREATE TABLE IF NOT EXISTS events (
    id             TEXT PRIMARY KEY,
    resource       TEXT NOT NULL,  -- 'messages' | 'memberships' | 'rooms' | ...
    type           TEXT NOT NULL,  -- 'created' | 'updated' | 'deleted' | 'ended'
    actor_id       TEXT,           -- the person who acted (people.id, not enforced)
    org_id         TEXT,
    space_id       TEXT,           -- data.roomId: the space it happened in (not enforced)
    object_id      TEXT,           -- data.id: the message or membership it is about
    created        TEXT NOT NULL,  -- when it happened
    raw            TEXT NOT NULL,  -- the event: data is the object as it was then (ids only)
    fetched_at     TEXT NOT NULL,
    -- When the sync of its space applied it (edits, deletions with their times, recovered
    -- messages, exact join and leave times). NULL: the space is still to be synced.
    applied_at     TEXT
);
CREATE INDEX IF NOT EXISTS events_pending ON events (space_id) WHERE applied_at IS NULL;
CREATE INDEX IF NOT EXISTS events_object ON events (object_id);

-- One row per `webex-archive sync` run.
CREATE TABLE IF NOT EXISTS sync_runs (
    id               INTEGER PRIMARY KEY,
    started_at       TEXT NOT NULL,
    finished_at      TEXT,
    -- 'running' | 'ok' | 'failed' | 'interrupted' (the process died; set by the next run)
    status           TEXT NOT NULL DEFAULT 'running',
    error            TEXT,              -- one line, for 'failed'
    arguments        TEXT,              -- JSON object: the options of the run (no token)
    requests         INTEGER NOT NULL DEFAULT 0,  -- HTTP requests made
    pages            INTEGER NOT NULL DEFAULT 0,  -- message list pages read
    new_messages     INTEGER NOT NULL DEFAULT 0,
    edited_messages  INTEGER NOT NULL DEFAULT 0,
    deleted_messages INTEGER NOT NULL DEFAULT 0,
    spaces           TEXT,              -- JSON array of the space ids the run was asked for
    retries          INTEGER NOT NULL DEFAULT 0,  -- requests sent again after 5xx or a drop
    rate_limited     INTEGER NOT NULL DEFAULT 0,  -- 429 answers from Webex
    waited_seconds   REAL NOT NULL DEFAULT 0,     -- waiting out 429s (Retry-After) and 5xx
    paced_seconds    REAL NOT NULL DEFAULT 0,     -- waiting to stay under the quota (pacing)
    bytes            INTEGER NOT NULL DEFAULT 0,  -- response bodies received
    file_info        INTEGER NOT NULL DEFAULT 0   -- files whose name and size were asked (HEAD)
);

-- Full-text index over messages.text. An external-content table: it stores only the index
-- and reads the text from messages (joined on messages.rowid), so the text is not stored
-- twice. Search it like this:
--   SELECT m.* FROM messages_fts JOIN messages m ON m.rowid = messages_fts.rowid
--   WHERE messages_fts MATCH 'budget' ORDER BY rank;
-- or `sqlite-utils search archive.db messages budget`; Datasette shows a search box on
-- messages (content="messages" is double-quoted because that is the form they detect).
-- Messages marked deleted stay searchable (their content is kept). If a tool ever
-- renumbers messages.rowid (VACUUM may, in principle, for tables without an INTEGER
-- PRIMARY KEY), repair the index with:
--   INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5 (
    text,
    content="messages",
    content_rowid="rowid"
);

-- The three triggers that keep messages_fts in step with messages. A sync drops the insert
-- trigger while it writes and indexes each page's new rows itself, in the page's own
-- transaction (etl/store/fts.py); the end of the run, or the next open of the archive after a
-- killed run, recreates it from this file.
CREATE TRIGGER IF NOT EXISTS messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER IF NOT EXISTS messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
CREATE TRIGGER IF NOT EXISTS messages_fts_update AFTER UPDATE OF text ON messages
WHEN old.text IS NOT new.text BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
    INSERT INTO messages_fts (rowid, text) VALUES (new.rowid, new.text);
END;

-- What changed since a given moment, for render's incremental --split (render/changes.py):
-- one row per change to a row a rendered page shows, written by the triggers below, so every
-- writer (the sync, a test, a person's sqlite3) is recorded alike. New messages are not
-- logged: they are the rows whose rowid is above the one a rendering last saw (messages only
-- grow; a deletion of a row is logged, and a renumbering VACUUM shows as a changed count).
-- Updates are logged only when a column a page shows changes, so the sync's re-reads of
-- unchanged messages and people log nothing. Memberships are not logged: the pages that
-- show them (a space's statistics, the home page) are computed from the table every time.
-- Rows are small and only changes are logged (a night's edits, deletions and downloads).
CREATE TABLE IF NOT EXISTS changes (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,  -- grows with every change, never reused
    tbl      TEXT NOT NULL,  -- 'messages' | 'people' | 'files' | 'avatars'
    space_id TEXT,           -- the space it is in (NULL for people, who are in none)
    key      TEXT            -- messages.id, people.id, files.message_id or avatars.person_id
);
CREATE TRIGGER IF NOT EXISTS changes_messages_update AFTER UPDATE ON messages
WHEN old.text IS NOT new.text OR old.html IS NOT new.html OR old.files IS NOT new.files
    OR old.attachments IS NOT new.attachments OR old.updated IS NOT new.updated
    OR old.deleted_at IS NOT new.deleted_at OR old.created IS NOT new.created
    OR old.parent_id IS NOT new.parent_id OR old.person_id IS NOT new.person_id
    OR old.person_email IS NOT new.person_email OR old.space_id IS NOT new.space_id
    OR old.mentioned_people IS NOT new.mentioned_people
    OR old.mentioned_groups IS NOT new.mentioned_groups BEGIN
    INSERT INTO changes (tbl, space_id, key) VALUES ('messages', old.space_id, old.id);
    INSERT INTO changes (tbl, space_id, key) SELECT 'messages', new.space_id, new.id
    WHERE new.space_id IS NOT old.space_id OR new.id IS NOT old.id;
END;
CREATE TRIGGER IF NOT EXISTS changes_messages_delete AFTER DELETE ON messages BEGIN
    INSERT INTO changes (tbl, space_id, key) VALUES ('messages', old.space_id, old.id);
END;
CREATE TRIGGER IF NOT EXISTS changes_people_insert AFTER INSERT ON people BEGIN
    INSERT INTO changes (tbl, space_id, key) VALUES ('people', NULL, new.id);
END;
CREATE TRIGGER IF NOT EXISTS changes_people_update AFTER UPDATE ON people
WHEN old.display_name IS NOT new.display_name OR old.avatar IS NOT new.avatar
    OR old.org_id IS NOT new.org_id OR old.email IS NOT new.email OR old.id IS NOT new.id BEGIN
    INSERT INTO changes (tbl, space_id, key) VALUES ('people', NULL, old.id);
END;
CREATE TRIGGER IF NOT EXISTS changes_people_delete AFTER DELETE ON people BEGIN
    INSERT INTO changes (tbl, space_id, key) VALUES ('people', NULL, old.id);
END;
CREATE TRIGGER IF NOT EXISTS changes_files_insert AFTER INSERT ON files BEGIN
    INSERT INTO changes (tbl, space_id, key) VALUES ('files', new.space_id, new.message_id);
END;
CREATE TRIGGER IF NOT EXISTS changes_files_update AFTER UPDATE ON files
WHEN old.name IS NOT new.name OR old.content_type IS NOT new.content_type
    OR old.size IS NOT new.size OR old.status IS NOT new.status
    OR old.local_path IS NOT new.local_path OR old.url IS NOT new.url
    OR old.position IS NOT new.position OR old.message_id IS NOT new.message_id BEGIN
    INSERT INTO changes (tbl, space_id, key) VALUES ('files', old.space_id, old.message_id);
    INSERT INTO changes (tbl, space_id, key) SELECT 'files', new.space_id, new.message_id
    WHERE new.message_id IS NOT old.message_id;
END;
CREATE TRIGGER IF NOT EXISTS changes_files_delete AFTER DELETE ON files BEGIN
    INSERT INTO changes (tbl, space_id, key) VALUES ('files', old.space_id, old.message_id);
END;
CREATE TRIGGER IF NOT EXISTS changes_avatars_insert AFTER INSERT ON avatars BEGIN
    INSERT INTO changes (tbl, space_id, key) VALUES ('avatars', new.space_id, new.person_id);
END;
CREATE TRIGGER IF NOT EXISTS changes_avatars_update AFTER UPDATE ON avatars BEGIN
    INSERT INTO changes (tbl, space_id, key) VALUES ('avatars', old.space_id, old.person_id);
    INSERT INTO changes (tbl, space_id, key) VALUES ('avatars', new.space_id, new.person_id);
END;
CREATE TRIGGER IF NOT EXISTS changes_avatars_delete AFTER DELETE ON avatars BEGIN
    INSERT INTO changes (tbl, space_id, key) VALUES ('avatars', old.space_id, old.person_id);
END;

-- Messages with names joined in: all columns of messages except raw, plus
--   space_title   spaces.title
--   author_name   people.display_name, else the author's email
--   is_reply      1 for thread replies, 0 otherwise
--   reply_count   number of replies (deleted ones included) for top-level messages; NULL for
--                 replies
-- Filter on space_id and created to use the messages_space_order index.
CREATE VIEW IF NOT EXISTS messages_view AS
SELECT
    m.id,
    m.space_id,
    s.title AS space_title,
    m.room_type,
    m.parent_id,
    m.parent_id IS NOT NULL AS is_reply,
    CASE WHEN m.parent_id IS NULL
        THEN (SELECT count(*) FROM messages AS r WHERE r.parent_id = m.id)
    END AS reply_count,
    m.person_id,
    m.person_email,
    coalesce(p.display_name, m.person_email) AS author_name,
    m.text,
    m.markdown,
    m.html,
    m.files,
    m.attachments,
    m.mentioned_people,
    m.mentioned_groups,
    m.is_voice_clip,
    m.created,
    m.updated,
    m.first_seen_at,
    m.last_seen_at,
    m.deleted_at
FROM messages AS m
LEFT JOIN spaces AS s ON s.id = m.space_id
LEFT JOIN people AS p ON p.id = m.person_id;

-- One row per thread that has at least one reply in the archive:
--   parent_id, space_id, space_title
--   reply_count                    replies in the archive, deleted ones included
--   first_reply_at, last_reply_at  created of the oldest and newest reply
--   parent_created, parent_author, parent_text
--                                  the thread's first message; NULL if it is not archived
CREATE VIEW IF NOT EXISTS threads AS
SELECT
    t.parent_id,
    t.space_id,
    s.title AS space_title,
    t.reply_count,
    t.first_reply_at,
    t.last_reply_at,
    pm.created AS parent_created,
    coalesce(pp.display_name, pm.person_email) AS parent_author,
    pm.text AS parent_text
FROM (
    SELECT
        parent_id,
        space_id,
        count(*) AS reply_count,
        min(created) AS first_reply_at,
        max(created) AS last_reply_at
    FROM messages
    WHERE parent_id IS NOT NULL
    GROUP BY parent_id, space_id
) AS t
LEFT JOIN messages AS pm ON pm.id = t.parent_id
LEFT JOIN people AS pp ON pp.id = pm.person_id
LEFT JOIN spaces AS s ON s.id = t.space_id;

-- One row per space:
--   messages           messages in the archive (deleted ones included)
--   deleted            of which deleted in Webex
--   members            current members (memberships with left_at NULL)
--   authors            distinct authors of archived messages
--   files              attachments (rows in files)
--   first_message_at, last_message_at
--                      created of the oldest and newest archived message
CREATE VIEW IF NOT EXISTS space_stats AS
SELECT
    s.id AS space_id,
    s.title,
    s.type,
    (SELECT count(*) FROM messages AS m WHERE m.space_id = s.id) AS messages,
    (SELECT count(*) FROM messages AS m
        WHERE m.space_id = s.id AND m.deleted_at IS NOT NULL) AS deleted,
    (SELECT count(*) FROM memberships AS ms
        WHERE ms.space_id = s.id AND ms.left_at IS NULL) AS members,
    (SELECT count(DISTINCT m.person_id) FROM messages AS m WHERE m.space_id = s.id) AS authors,
    (SELECT count(*) FROM files AS f WHERE f.space_id = s.id) AS files,
    (SELECT min(m.created) FROM messages AS m WHERE m.space_id = s.id) AS first_message_at,
    (SELECT max(m.created) FROM messages AS m WHERE m.space_id = s.id) AS last_message_at
FROM spaces AS s;
