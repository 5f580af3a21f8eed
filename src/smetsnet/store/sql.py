"""Every statement of the SQL stores, written once for SQLite and PostgreSQL (``?`` style)."""

from __future__ import annotations

DEVICE_COLUMNS = (
    "eui, device_type, status, prior_status, status_at, premises_id, on_han_log, anchor_set_id"
)
DEVICE = f"SELECT {DEVICE_COLUMNS} FROM device WHERE eui = ?"
DEVICES_AT = f"SELECT {DEVICE_COLUMNS} FROM device WHERE premises_id = ? ORDER BY eui"
INSERT_DEVICE = f"INSERT INTO device ({DEVICE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
# Compare-and-set: the change happens only if nobody moved the device meanwhile.
SET_STATUS = (
    "UPDATE device SET status = ?, prior_status = ?, status_at = ? WHERE eui = ? AND status = ?"
)
SET_PLACEMENT = "UPDATE device SET premises_id = ?, on_han_log = ? WHERE eui = ?"
SET_ANCHOR_SET = "UPDATE device SET anchor_set_id = ? WHERE eui = ?"

PREMISES_COLUMNS = "id, region, han_log_max"
PREMISES = f"SELECT {PREMISES_COLUMNS} FROM premises WHERE id = ?"
INSERT_PREMISES = "INSERT INTO premises (region, han_log_max) VALUES (?, ?) RETURNING id"
MAX_PREMISES = "SELECT COALESCE(MAX(id), 0) FROM premises"
PREMISES_BY_REGION = "SELECT region, COUNT(*) FROM premises GROUP BY region ORDER BY region"

METER_POINT_COLUMNS = "mpxn, kind, premises_id, device_eui"
METER_POINT = f"SELECT {METER_POINT_COLUMNS} FROM meter_point WHERE mpxn = ?"
METER_POINTS_AT = (
    f"SELECT {METER_POINT_COLUMNS} FROM meter_point WHERE premises_id = ? ORDER BY mpxn"
)
INSERT_METER_POINT = f"INSERT INTO meter_point ({METER_POINT_COLUMNS}) VALUES (?, ?, ?, ?)"
LINK_METER_POINT = "UPDATE meter_point SET device_eui = ? WHERE mpxn = ?"

REGISTRATION_COLUMNS = "mpxn, role, valid_from, valid_to, user_eui"
REGISTRATIONS = (
    f"SELECT {REGISTRATION_COLUMNS} FROM registration WHERE mpxn = ? AND role = ?"
    " ORDER BY valid_from"
)
INSERT_REGISTRATION = f"INSERT INTO registration ({REGISTRATION_COLUMNS}) VALUES (?, ?, ?, ?, ?)"
END_REGISTRATION = (
    "UPDATE registration SET valid_to = ? WHERE mpxn = ? AND role = ? AND valid_from = ?"
)
DELETE_REGISTRATION = "DELETE FROM registration WHERE mpxn = ? AND role = ? AND valid_from = ?"

# The MPxN that serves a device for a role: at the device's premises, of one of the role's two
# kinds (given twice when there is one); the one the device itself measures first, then the
# first kind, then the lowest number. Parameters: eui, kind, kind2, kind.
SERVING_MPXN = (
    "SELECT m.mpxn FROM device d JOIN meter_point m ON m.premises_id = d.premises_id"
    " WHERE d.eui = ? AND m.kind IN (?, ?)"
    " ORDER BY CASE WHEN m.device_eui = d.eui THEN 0 ELSE 1 END,"
    " CASE WHEN m.kind = ? THEN 0 ELSE 1 END, m.mpxn LIMIT 1"
)
# Who holds a role at a time, in ONE statement: intervals never overlap, so the only candidate is
# the last one starting at or before the time (one index probe); its end is checked by the caller.
WHO_HOLDS = (
    f"SELECT r.user_eui, r.valid_to FROM registration r WHERE r.mpxn = ({SERVING_MPXN})"
    " AND r.role = ? AND r.valid_from <= ? ORDER BY r.valid_from DESC LIMIT 1"
)
ROLE_TIMELINE = (
    f"SELECT r.mpxn, r.valid_from, r.valid_to, r.user_eui FROM registration r"
    f" WHERE r.mpxn = ({SERVING_MPXN}) AND r.role = ? ORDER BY r.valid_from"
)

USER_COLUMNS = "eui, name, roles, response_url, xml_cert_sha256, xml_cert_subject, status"
USER = f"SELECT {USER_COLUMNS} FROM service_user WHERE eui = ?"
INSERT_USER = f"INSERT INTO service_user ({USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
SET_USER_STATUS = "UPDATE service_user SET status = ? WHERE eui = ?"

ANCHOR_SET = "SELECT id, name FROM anchor_set WHERE id = ?"
ANCHOR_SET_NAMED = "SELECT id, name FROM anchor_set WHERE name = ?"
INSERT_ANCHOR_SET = "INSERT INTO anchor_set (name) VALUES (?) RETURNING id"
CELL_COLUMNS = "role, key_usage, cell_usage, cert_sha256, subject_eui"
ANCHOR_MEMBERS = f"SELECT {CELL_COLUMNS} FROM anchor_set_member WHERE set_id = ?"
INSERT_ANCHOR_MEMBER = (
    f"INSERT INTO anchor_set_member (set_id, {CELL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
)
ANCHOR_OVERRIDES = f"SELECT {CELL_COLUMNS} FROM anchor_override WHERE device_eui = ?"
SET_ANCHOR_OVERRIDE = (
    f"INSERT INTO anchor_override (device_eui, {CELL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (device_eui, role, key_usage, cell_usage) DO UPDATE"
    " SET cert_sha256 = excluded.cert_sha256, subject_eui = excluded.subject_eui"
)
HISTORY_COLUMNS = (
    "device_eui, role, key_usage, cell_usage, old_sha256, old_subject, new_sha256, new_subject,"
    " replaced_by, changed_at, reason"
)
ANCHOR_HISTORY = f"SELECT {HISTORY_COLUMNS} FROM anchor_history WHERE device_eui = ? ORDER BY id"
INSERT_ANCHOR_HISTORY = (
    f"INSERT INTO anchor_history ({HISTORY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

COUNTER = "SELECT last_counter, floor_counter FROM counter WHERE device_eui = ? AND party_eui = ?"
# The anti-replay check-and-advance as ONE statement: insert if absent, else advance only when
# the new counter is above the last one and not below the floor. Concurrent callers serialise on
# the row (PostgreSQL) or the write lock (SQLite); the loser changes no row.
ADVANCE_COUNTER = (
    "INSERT INTO counter (device_eui, party_eui, last_counter, floor_counter)"
    " VALUES (?, ?, ?, ?)"
    " ON CONFLICT (device_eui, party_eui) DO UPDATE SET last_counter = excluded.last_counter"
    " WHERE (counter.last_counter IS NULL OR counter.last_counter < excluded.last_counter)"
    " AND excluded.last_counter >= counter.floor_counter"
)
SET_COUNTER_FLOOR = (
    "INSERT INTO counter (device_eui, party_eui, last_counter, floor_counter)"
    " VALUES (?, ?, NULL, ?)"
    " ON CONFLICT (device_eui, party_eui) DO UPDATE SET floor_counter = excluded.floor_counter"
)

TABLES = (
    "premises",
    "device",
    "meter_point",
    "registration",
    "service_user",
    "anchor_set",
    "anchor_set_member",
    "anchor_override",
    "anchor_history",
    "counter",
)
