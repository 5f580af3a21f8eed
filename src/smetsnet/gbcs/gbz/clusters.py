"""The cluster-specific ZCL/ZSE commands GBCS uses, as one declarative table of field layouts.

Sources (facts only): the RTDS 4.5.0 GBZ vectors, GBCS-PAYLOADS §2.3, the GBZ message templates of
HenryGiraldo/gbcs-parser-js ``gbcs-use-cases.html`` [U] and SmartDCCInnovation/gbcs-parser
``src/zigbee.ts`` [P]. Where they differ from ZSE wording the choice is noted. Text-like octet
strings (labels, UTRN, site id, CIN, names) are typed ``text`` so that JSON shows the characters;
the wire form is the same 1-byte-length string. Layout syntax: :mod:`.layout`.
"""

from __future__ import annotations

from typing import Final

from smetsnet.gbcs.gbz import layout as lay
from smetsnet.gbcs.gbz.spec import (
    C2S,
    CALENDAR,
    DEVICE_MANAGEMENT,
    EVENTS,
    MESSAGING,
    METERING,
    PREPAYMENT,
    PRICE,
    S2C,
)
from smetsnet.gbcs.gbz.spec import define as _define

_SNAPSHOT_HEAD: Final = (
    "snapshot_id:u32 snapshot_time:utc total_snapshots_found:u8 command_index:u8 "
    "total_commands:u8 snapshot_cause:map32 snapshot_payload_type:enum8"
)
_PROVIDER_EVENT: Final = "provider_id:u32 issuer_event_id:u32"
_CALENDAR_HEAD: Final = "provider_id:u32 issuer_event_id:u32 issuer_calendar_id:u32"

# -- Price 0x0700 ----------------------------------------------------------------------------
_define(PRICE, C2S, 0x00, "Get Current Price", "command_options:map8")
_define(
    PRICE,
    C2S,
    0x0B,
    "Get Billing Period",
    "earliest_start_time:utc min_issuer_event_id:u32 number_of_commands:u8 tariff_type:map8",
)
# [P] notes 19 optional octets after Price; they are ZSE's optional Publish Price fields.
_define(
    PRICE,
    S2C,
    0x00,
    "Publish Price",
    "provider_id:u32 rate_label:text issuer_event_id:u32 current_time:utc unit_of_measure:enum8 "
    "currency:u16 price_trailing_digit_and_tier:map8 number_of_price_tiers_and_register_tier:map8 "
    "start_time:utc duration_minutes:u16 price:u32 ? price_ratio:u8 generation_price:u32 "
    "generation_price_ratio:u8 alternate_cost_delivered:u32 alternate_cost_unit:enum8 "
    "alternate_cost_trailing_digit:map8 number_of_block_thresholds:u8 price_control:map8 "
    "number_of_generation_tiers:u8 generation_tier:enum8 extended_number_of_price_tiers:u8 "
    "extended_price_tier:u8 extended_register_tier:u8",
)
_define(
    PRICE,
    S2C,
    0x01,
    "Publish Block Period",
    f"{_PROVIDER_EVENT} block_period_start_time:utc block_period_duration:u24 "
    "block_period_control:map8 block_period_duration_type:map8 tariff_type:map8 "
    "tariff_resolution_period:enum8",
)
_define(
    PRICE,
    S2C,
    0x02,
    "Publish Conversion Factor",
    "issuer_event_id:u32 start_time:utc conversion_factor:u32 "
    "conversion_factor_trailing_digit:map8",
)
_define(
    PRICE,
    S2C,
    0x03,
    "Publish Calorific Value",
    "issuer_event_id:u32 start_time:utc calorific_value:u32 calorific_value_unit:enum8 "
    "calorific_value_trailing_digit:map8",
)
_define(
    PRICE,
    S2C,
    0x04,
    "Publish Tariff Information",
    f"{_PROVIDER_EVENT} issuer_tariff_id:u32 start_time:utc tariff_type:map8 tariff_label:text "
    "number_of_price_tiers:u8 number_of_block_thresholds:u8 unit_of_measure:enum8 currency:u16 "
    "price_trailing_digit:map8 standing_charge:u32 tier_block_mode:u8 "
    "block_threshold_multiplier:u24 block_threshold_divisor:u24",
)
_TARIFF_SUB: Final = (
    f"{_PROVIDER_EVENT} start_time:utc issuer_tariff_id:u32 command_index:u8 "
    "total_commands:u8 sub_payload_control:map8"
)
_define(
    PRICE,
    S2C,
    0x05,
    "Publish Price Matrix",
    f"{_TARIFF_SUB} prices[*]{{tier_block_id:u8 price:u32}}",
)
# ZSE: high nibble = tier, low nibble = number of thresholds that follow (vectors: 0x03, 3 x u48).
_define(
    PRICE,
    S2C,
    0x06,
    "Publish Block Thresholds",
    f"{_TARIFF_SUB} tier_and_threshold_count:map8 "
    "thresholds[tier_and_threshold_count&0x0F]{threshold:u48}",
)
_define(
    PRICE,
    S2C,
    0x09,
    "Publish Billing Period",
    f"{_PROVIDER_EVENT} billing_period_start_time:utc billing_period_duration:u24 "
    "billing_period_duration_type:map8 tariff_type:map8",
)

# -- Metering 0x0702 -------------------------------------------------------------------------
_GET_SNAPSHOT: Final = (
    "earliest_start_time:utc latest_end_time:utc snapshot_offset:u8 snapshot_cause:map32"
)
_define(METERING, C2S, 0x06, "Get Snapshot", _GET_SNAPSHOT)
_define(
    METERING,
    C2S,
    0x07,
    "Start Sampling",
    "issuer_event_id:u32 start_sampling_time:utc sample_type:enum8 sample_request_interval:u16 "
    "max_number_of_samples:u16",
)
_define(
    METERING,
    C2S,
    0x08,
    "Get Sampled Data",
    "sample_id:u16 earliest_sample_time:utc sample_type:enum8 number_of_samples:u16",
)
_define(
    METERING,
    C2S,
    0x0B,
    "Change Supply",
    f"{_PROVIDER_EVENT} request_date_time:utc implementation_date_time:utc "
    "proposed_supply_status:enum8 supply_control_bits:map8",
)
_define(
    METERING,
    C2S,
    0x0D,
    "Set Supply Status",
    "issuer_event_id:u32 supply_tamper_state:enum8 supply_depletion_state:enum8 "
    "supply_uncontrolled_flow_state:enum8 load_limit_supply_state:enum8",
)
_define(
    METERING,
    C2S,
    0x0E,
    "Set Uncontrolled Flow Threshold",
    f"{_PROVIDER_EVENT} uncontrolled_flow_threshold:u16 unit_of_measure:enum8 multiplier:u16 "
    "divisor:u16 stabilisation_period:u8 measurement_period:u16",
)
# Sub-payload type 6 (block tier registers delivered, no billing) is the one GBCS uses ([U]:
# tiers 0x04 then 4 TOU registers; 0x14 then the 4 block counters; decrypted RTDS GCS15c/16a).
_define(
    METERING,
    S2C,
    0x06,
    "Publish Snapshot",
    (
        *lay.parse_layout(_SNAPSHOT_HEAD),
        lay.Variant(
            "snapshot_payload_type",
            (
                (
                    6,
                    lay.parse_layout(
                        "current_summation_delivered:u48 number_of_tiers_in_use:u8 "
                        "tier_summations[number_of_tiers_in_use]{summation:u48} "
                        "number_of_tiers_and_block_thresholds_in_use:u8 "
                        "tier_block_summations[*]{summation:u48}"
                    ),
                ),
            ),
        ),
    ),
)
_define(
    METERING,
    S2C,
    0x07,
    "Get Sampled Data Response",
    "sample_id:u16 sample_start_time:utc sample_type:enum8 sample_request_interval:u16 "
    "number_of_samples:u16 samples[number_of_samples]{value:u24}",
)
_define(
    METERING,
    S2C,
    0x0C,
    "Supply Status Response",
    f"{_PROVIDER_EVENT} implementation_date_time:utc supply_status:enum8",
)
_define(METERING, S2C, 0x0D, "Start Sampling Response", "sample_id:u16")

# -- Messaging 0x0703 ------------------------------------------------------------------------
_define(
    MESSAGING,
    S2C,
    0x00,
    "Display Message",
    "message_id:u32 message_control:map8 start_time:utc duration_minutes:u16 message:text "
    "? extended_message_control:map8",
)

# -- Prepayment 0x0705 -----------------------------------------------------------------------
_define(
    PREPAYMENT,
    C2S,
    0x00,
    "Select Available Emergency Credit",
    "command_issue_date_time:utc originating_device:enum8",
)
_define(
    PREPAYMENT,
    C2S,
    0x02,
    "Change Debt",
    "issuer_event_id:u32 debt_label:text debt_amount:i32 debt_recovery_method:enum8 "
    "debt_amount_type:enum8 debt_recovery_start_time:utc debt_recovery_collection_time:u16 "
    "debt_recovery_frequency:enum8 debt_recovery_amount:i32 debt_recovery_balance_percentage:u16",
)
_define(
    PREPAYMENT,
    C2S,
    0x03,
    "Emergency Credit Setup",
    "issuer_event_id:u32 start_time:utc emergency_credit_limit:u32 emergency_credit_threshold:u32",
)
_define(PREPAYMENT, C2S, 0x04, "Consumer Top Up", "originating_device:enum8 top_up_code:text")
_define(
    PREPAYMENT,
    C2S,
    0x05,
    "Credit Adjustment",
    "issuer_event_id:u32 start_time:utc credit_adjustment_type:enum8 credit_adjustment_value:i32",
)
_define(
    PREPAYMENT,
    C2S,
    0x06,
    "Change Payment Mode",
    f"{_PROVIDER_EVENT} implementation_date_time:utc "
    "proposed_payment_control_configuration:map16 cut_off_value:i32",
)
_define(PREPAYMENT, C2S, 0x07, "Get Prepay Snapshot", _GET_SNAPSHOT)
_define(PREPAYMENT, C2S, 0x08, "Get Top Up Log", "latest_end_time:utc number_of_records:u8")
_define(PREPAYMENT, C2S, 0x09, "Set Low Credit Warning Level", "low_credit_warning_level:u32")
_define(
    PREPAYMENT,
    C2S,
    0x0A,
    "Get Debt Repayment Log",
    "latest_end_time:utc number_of_debts:u8 debt_type:enum8",
)
_define(
    PREPAYMENT,
    C2S,
    0x0B,
    "Set Maximum Credit Limit",
    f"{_PROVIDER_EVENT} implementation_date_time:utc maximum_credit_level:u32 "
    "maximum_credit_per_top_up:u32",
)
_define(
    PREPAYMENT,
    C2S,
    0x0C,
    "Set Overall Debt Cap",
    f"{_PROVIDER_EVENT} implementation_date_time:utc overall_debt_cap:i32",
)
# Payload type 0 "Debt/Credit Status" ([U], [P]). Credit and emergency credit remaining are
# signed like their attributes (0x0001/0x0002 are int32 in the GCS14 vectors; a decrypted GCS15c
# snapshot holds credit 0xFFFFFF82 = -126).
_define(
    PREPAYMENT,
    S2C,
    0x01,
    "Publish Prepay Snapshot",
    (
        *lay.parse_layout(_SNAPSHOT_HEAD),
        lay.Variant(
            "snapshot_payload_type",
            (
                (
                    0,
                    lay.parse_layout(
                        "accumulated_debt:i32 type1_debt_remaining:u32 type2_debt_remaining:u32 "
                        "type3_debt_remaining:u32 emergency_credit_remaining:i32 "
                        "credit_remaining:i32"
                    ),
                ),
            ),
        ),
    ),
)
_define(
    PREPAYMENT,
    S2C,
    0x02,
    "Change Payment Mode Response",
    "friendly_credit:map8 friendly_credit_calendar_id:u32 emergency_credit_limit:u32 "
    "emergency_credit_threshold:u32",
)
_define(
    PREPAYMENT,
    S2C,
    0x03,
    "Consumer Top Up Response",
    "result_type:enum8 top_up_value:i32 source_of_top_up:enum8 credit_remaining:i32",
)
_define(
    PREPAYMENT,
    S2C,
    0x05,
    "Publish Top Up Log",
    "command_index:u8 total_commands:u8 "
    "top_ups[*]{top_up_code:text top_up_amount:i32 top_up_time:utc}",
)
_define(
    PREPAYMENT,
    S2C,
    0x06,
    "Publish Debt Log",
    "command_index:u8 total_commands:u8 debts[*]{collection_time:utc amount_collected:u32 "
    "debt_type:enum8 outstanding_debt:u32}",
)

# -- Calendar 0x0707 -------------------------------------------------------------------------
_define(CALENDAR, C2S, 0x00, "Get Calendar", "")  # [P] reads no fields
_CAL_ID: Final = "provider_id:u32 issuer_calendar_id:u32"
_define(CALENDAR, C2S, 0x01, "Get Day Profiles", f"{_CAL_ID} start_day_id:u8 number_of_days:u8")
_define(CALENDAR, C2S, 0x02, "Get Week Profiles", f"{_CAL_ID} start_week_id:u8 number_of_weeks:u8")
_define(CALENDAR, C2S, 0x03, "Get Seasons", _CAL_ID)
_define(
    CALENDAR,
    C2S,
    0x04,
    "Get Special Days",
    f"start_time:utc number_of_events:u8 calendar_type:enum8 {_CAL_ID}",
)
_define(
    CALENDAR,
    S2C,
    0x00,
    "Publish Calendar",
    f"{_CALENDAR_HEAD} start_time:utc calendar_type:enum8 calendar_time_reference:u8 "
    "calendar_name:text number_of_seasons:u8 number_of_week_profiles:u8 number_of_day_profiles:u8",
)
# Entry: start minute of the day, then the price tier (or, in a friendly-credit calendar, the
# friendly-credit enable flag) [P].
_define(
    CALENDAR,
    S2C,
    0x01,
    "Publish Day Profile",
    f"{_CALENDAR_HEAD} day_id:u8 total_number_of_schedule_entries:u8 command_index:u8 "
    "total_number_of_commands:u8 calendar_type:enum8 "
    "entries[*]{start_minute:u16 price_tier:u8}",
)
_define(
    CALENDAR,
    S2C,
    0x02,
    "Publish Week Profile",
    f"{_CALENDAR_HEAD} week_id:u8 day_id_ref_monday:u8 day_id_ref_tuesday:u8 "
    "day_id_ref_wednesday:u8 day_id_ref_thursday:u8 day_id_ref_friday:u8 day_id_ref_saturday:u8 "
    "day_id_ref_sunday:u8",
)
_define(
    CALENDAR,
    S2C,
    0x03,
    "Publish Seasons",
    f"{_CALENDAR_HEAD} command_index:u8 total_number_of_commands:u8 "
    "seasons[*]{season_start_date:date week_id_ref:u8}",
)
_define(
    CALENDAR,
    S2C,
    0x04,
    "Publish Special Days",
    f"{_CALENDAR_HEAD} start_time:utc calendar_type:enum8 total_number_of_special_days:u8 "
    "command_index:u8 total_number_of_commands:u8 "
    "special_days[*]{special_day_date:date day_id_ref:u8}",
)

# -- Device Management 0x0708 ----------------------------------------------------------------
_define(
    DEVICE_MANAGEMENT,
    C2S,
    0x04,
    "Report Event Configuration",
    "command_index:u8 total_commands:u8 events[*]{event_id:u16 event_configuration:map8}",
)
_define(
    DEVICE_MANAGEMENT,
    S2C,
    0x00,
    "Publish Change of Tenancy",
    f"{_PROVIDER_EVENT} tariff_type:map8 implementation_date_time:utc "
    "proposed_tenancy_change_control:map32",
)
_define(
    DEVICE_MANAGEMENT,
    S2C,
    0x01,
    "Publish Change of Supplier",
    "current_provider_id:u32 issuer_event_id:u32 tariff_type:map8 proposed_provider_id:u32 "
    "provider_change_implementation_time:utc provider_change_control:map32 "
    "proposed_provider_name:text proposed_provider_contact_details:text",
)
_define(
    DEVICE_MANAGEMENT,
    S2C,
    0x02,
    "Request New Password Response",
    "issuer_event_id:u32 implementation_date_time:utc duration_minutes:u16 password_type:enum8 "
    "password:text",
)
_define(
    DEVICE_MANAGEMENT,
    S2C,
    0x03,
    "Update Site ID",
    "issuer_event_id:u32 site_id_time:utc provider_id:u32 site_id:text",
)
# Configuration control 0 = "apply by list" ([P]); other controls are left undecoded.
_define(
    DEVICE_MANAGEMENT,
    S2C,
    0x04,
    "Set Event Configuration",
    (
        *lay.parse_layout(
            "issuer_event_id:u32 start_date_time:utc event_configuration:map8 "
            "configuration_control:enum8"
        ),
        lay.Variant(
            "configuration_control",
            ((0, lay.parse_layout("number_of_events:u8 events[number_of_events]{event_id:u16}")),),
        ),
    ),
)
_define(DEVICE_MANAGEMENT, S2C, 0x05, "Get Event Configuration", "event_id:u16")
_define(
    DEVICE_MANAGEMENT,
    S2C,
    0x06,
    "Update CIN",
    "issuer_event_id:u32 cin_implementation_time:utc provider_id:u32 customer_id_number:text",
)

# -- Events 0x0709 ---------------------------------------------------------------------------
_define(
    EVENTS,
    C2S,
    0x00,
    "Get Event Log",
    "event_control_log_id:map8 event_id:u16 start_time:utc end_time:utc number_of_events:u8 "
    "event_offset:u16",
)
_define(EVENTS, C2S, 0x01, "Clear Event Log Request", "log_id:map8")
# GBCS: the log payload control is 0x00 and unused; the events run to the end [U].
_define(
    EVENTS,
    S2C,
    0x01,
    "Publish Event Log",
    "total_number_of_events:u16 command_index:u8 total_commands:u8 log_payload_control:map8 "
    "events[*]{log_id:enum8 event_id:u16 event_time:utc event_data:octstr}",
)
_define(EVENTS, S2C, 0x02, "Clear Event Log Response", "cleared_event_logs:map8")
