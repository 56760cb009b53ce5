/**
 * Versioned schema of the case store. `PRAGMA user_version` holds the number of applied migrations;
 * migrations only ever append. Units: mm and seconds; wall-clock stamps are milliseconds since the
 * Unix epoch taken from a monotonic clock (performance.timeOrigin + performance.now()).
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE cases (
  id          TEXT PRIMARY KEY,
  title       TEXT NOT NULL,
  procedure   TEXT NOT NULL,
  surgeon     TEXT NOT NULL,
  case_date   TEXT NOT NULL,               -- ISO date YYYY-MM-DD
  patient_ref TEXT NOT NULL,               -- pseudonymous reference only, never a name
  notes       TEXT NOT NULL DEFAULT '',
  created_at  TEXT NOT NULL
);

-- Large binary data lives in files under the case folder; the database keeps path, size and hash.
CREATE TABLE files (
  id         INTEGER PRIMARY KEY,
  case_id    TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
  rel_path   TEXT NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('video', 'depth', 'mesh', 'trajectory', 'other')),
  bytes      INTEGER NOT NULL CHECK (bytes >= 0),
  sha256     TEXT NOT NULL CHECK (length(sha256) = 64),
  created_at TEXT NOT NULL,
  UNIQUE (case_id, rel_path)
);

CREATE TABLE recordings (
  id               INTEGER PRIMARY KEY,
  case_id          TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
  rel_path         TEXT NOT NULL,
  file_id          INTEGER REFERENCES files(id),   -- set when the recording is closed or recovered
  container        TEXT NOT NULL,
  source           TEXT NOT NULL,
  width            INTEGER NOT NULL,
  height           INTEGER NOT NULL,
  fps              REAL,
  -- Wall-clock time (ms since epoch, monotonic) of source pts 0: wall = pts * 1000 + offset.
  wall_offset_ms   REAL,
  status           TEXT NOT NULL CHECK (status IN ('recording', 'complete', 'interrupted', 'failed')),
  owner_pid        INTEGER,           -- process that records (crash recovery checks it is gone)
  writer_pid       INTEGER,           -- ffmpeg writing the file (recovery waits for it to finish)
  frame_count      INTEGER NOT NULL DEFAULT 0,
  error            TEXT,
  started_at       TEXT NOT NULL,
  ended_at         TEXT,
  UNIQUE (case_id, rel_path)
);

CREATE TABLE frames (
  recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
  frame_number INTEGER NOT NULL,
  pts          REAL NOT NULL,      -- seconds, source time line
  wall_ms      REAL NOT NULL,      -- ms since epoch, monotonic clock at arrival
  PRIMARY KEY (recording_id, frame_number)
) WITHOUT ROWID;

CREATE TABLE keyframes (
  id            INTEGER PRIMARY KEY,
  case_id       TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
  recording_id  INTEGER REFERENCES recordings(id) ON DELETE SET NULL,
  frame_number  INTEGER NOT NULL,
  timestamp     REAL NOT NULL,
  pose          TEXT NOT NULL,     -- JSON, 16 numbers, row-major camera-to-world, mm
  depth_file_id INTEGER REFERENCES files(id),
  depth_scale   REAL,
  created_at    TEXT NOT NULL
);
CREATE INDEX keyframes_case ON keyframes(case_id);

CREATE TABLE trajectories (
  id           INTEGER PRIMARY KEY,
  case_id      TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
  recording_id INTEGER REFERENCES recordings(id) ON DELETE SET NULL,
  label        TEXT NOT NULL,
  file_id      INTEGER NOT NULL REFERENCES files(id),
  pose_count   INTEGER NOT NULL,
  created_at   TEXT NOT NULL
);

CREATE TABLE meshes (
  id             INTEGER PRIMARY KEY,
  case_id        TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
  name           TEXT NOT NULL,
  version        INTEGER NOT NULL CHECK (version >= 1),
  parameters     TEXT NOT NULL,    -- JSON: what produced this version
  file_id        INTEGER NOT NULL REFERENCES files(id),
  vertex_count   INTEGER NOT NULL,
  triangle_count INTEGER NOT NULL,
  created_at     TEXT NOT NULL,
  UNIQUE (case_id, name, version)
);

CREATE TABLE annotations (
  id           INTEGER PRIMARY KEY,
  case_id      TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
  recording_id INTEGER REFERENCES recordings(id) ON DELETE SET NULL,
  frame_number INTEGER,
  position     TEXT,               -- JSON [x,y,z] mm in the reconstruction's world frame, or null
  text         TEXT NOT NULL,
  author       TEXT NOT NULL,
  created_at   TEXT NOT NULL
);

CREATE TABLE measurements (
  id         INTEGER PRIMARY KEY,
  case_id    TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
  mesh_id    INTEGER REFERENCES meshes(id) ON DELETE SET NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('distance', 'angle', 'area')),
  points     TEXT NOT NULL,        -- JSON [[x,y,z], ...] mm
  value      REAL NOT NULL,
  unit       TEXT NOT NULL CHECK (unit IN ('mm', 'deg', 'mm2')),
  label      TEXT NOT NULL DEFAULT '',
  author     TEXT NOT NULL,
  created_at TEXT NOT NULL
);

-- Who did what when. No foreign key: the trail of a deleted case must survive it.
CREATE TABLE audit_log (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  at      TEXT NOT NULL,
  actor   TEXT NOT NULL,
  action  TEXT NOT NULL,
  case_id TEXT,
  details TEXT NOT NULL DEFAULT '{}'
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: rows cannot be changed'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: rows cannot be deleted'); END;
`,
  },
  {
    version: 2,
    name: 'timeline annotations: kind, run and time',
    // Bookmarks and notes on a run's review timeline. A run on a dataset has no recording, so the
    // instant is the run's name (the name its trajectory and meshes carry) and seconds on its timeline.
    sql: `
ALTER TABLE annotations ADD COLUMN kind TEXT NOT NULL DEFAULT 'note' CHECK (kind IN ('note', 'bookmark'));
ALTER TABLE annotations ADD COLUMN run_name TEXT;
ALTER TABLE annotations ADD COLUMN time_s REAL CHECK (time_s IS NULL OR time_s >= 0);
`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;
