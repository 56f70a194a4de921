"""Validate stage: pandera per table (derived from `schemas/`), then checks across tables.

Per table: types, required values, unique keys, vocabularies, patterns, ranges, ISO codes and
the row rules of `schemas/rules.yaml`. Across tables: every foreign key resolves, every span
equals its article's characters, every article's sha256 matches. Failures become Problems
located at the file and line the value came from.
"""
from __future__ import annotations

import sys
from functools import partial
from typing import Callable, Iterable, Sequence

import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc
from pandera.errors import SchemaErrors


def _load_checks_without_hypothesis() -> None:
    """pandera's built-in checks import hypothesis when it is installed (for data synthesis, which the
    build never uses), and hypothesis its plugins and a full garbage collection: 0.45 s per run. Unless
    something imported hypothesis already, they are loaded with it hidden, as if it were not installed."""
    if "hypothesis" in sys.modules:
        return
    sys.modules["hypothesis"] = None  # `import hypothesis` raises ImportError
    try:
        import pandera.backends.pandas.builtin_checks  # noqa: F401
    finally:
        del sys.modules["hypothesis"]


_load_checks_without_hypothesis()

from .errors import Location, Problems, did_you_mean
from .read import field_path
from .schema import Schema, Table
from .tables import DTYPES

Origins = dict[str, Sequence]  # table -> per row an object whose .at(column) gives a Location
RuleFn = Callable[[pd.DataFrame, Schema], "pd.Series | dict[str, pd.Series]"]
RULES: dict[str, RuleFn] = {}  # name -> ok-mask, or one ok-mask per column to blame


def rule(name: str):
    """Register a row rule of rules.yaml: a function of (frame, schema) returning True for the rows
    that pass (or {column to blame: such a mask})."""
    def register(fn: RuleFn) -> RuleFn:
        RULES[name] = fn
        return fn
    return register


def _le(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a.isna() | b.isna() | (a <= b)).astype(bool)


def _same_presence(*columns: pd.Series) -> pd.Series:
    present = [c.notna() for c in columns]
    return pd.concat([p == present[0] for p in present], axis=1).all(axis=1)


def _interval(df: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    prefix = "published" if "published_start" in df else "date"
    return df[f"{prefix}_start"], df[f"{prefix}_end"], df[f"{prefix}_precision"]


@rule("published_order")
def _published_order(df, schema):
    return _le(df.published_start, df.published_end)


@rule("date_order")
def _date_order(df, schema):
    return {"date_end": _le(df.date_start, df.date_end),
            "external_date_end": _le(df.external_date_start, df.external_date_end)}


@rule("precision_fits_interval")
def _precision_fits(df, schema):
    start, end, precision = _interval(df)
    return {precision.name: _fits(start, end, precision)}


def _fits(start: pd.Series, end: pd.Series, precision: pd.Series) -> pd.Series:
    days = (end - start).dt.days
    same_month = (start.dt.year == end.dt.year) & (start.dt.month == end.dt.month)
    fits = pd.Series(True, index=start.index)
    fits[precision == "day"] = days == 0
    fits[precision == "days"] = days.between(1, 5)
    fits[precision == "week"] = days.between(0, 6)
    fits[precision == "month"] = same_month & (days >= 0)
    fits[precision == "year"] = (start.dt.year == end.dt.year) & (days >= 0)
    fits[precision == "range"] = days >= 0
    return fits.fillna(True).astype(bool)


@rule("basis_pairs")
def _basis_pairs(df, schema):
    pairs = {}
    for f in [f for f in schema.fields.values() if f.basis_for and f.name in df.columns]:
        value, basis = df[f.basis_for], df[f.name]
        pairs[f.name] = ((value.notna() == basis.notna())
                         & ~(basis.notna() & (basis != "text") & df[f.note].isna())).astype(bool)
    return pairs


@rule("no_self_parent")
def _no_self_parent(df, schema):
    key, parent = (("actor_id", "parent_actor_id") if "actor_id" in df else ("place_id", "parent_place_id"))
    return (df[parent].isna() | (df[parent] != df[key])).astype(bool)


@rule("coordinates_pair")
def _coordinates_pair(df, schema):
    return (_same_presence(df.latitude, df.longitude, df.gazetteer)
            & (df.latitude.isna() | df.geonames_id.notna())).astype(bool)


@rule("span_order")
def _span_order(df, schema):
    return (df.char_start < df.char_end).astype(bool)


@rule("external_date_complete")
def _external_complete(df, schema):
    return _same_presence(df.external_date_start, df.external_date_end, df.external_date_source)


@rule("report_date_complete")
def _report_complete(df, schema):
    report = _same_presence(df.report_date_start, df.report_date_end, df.report_date_precision, df.report_date_basis)
    needed = (df.date_basis != "report_date").fillna(True) | df.report_date_start.notna()
    return {"report_date_start": (report & needed).astype(bool),
            "report_date_basis": (df.report_date_basis != "report_date").fillna(True).astype(bool)}


@rule("report_bounds_act")
def _report_bounds_act(df, schema):
    return {"report_date_end": (_le(df.report_date_start, df.report_date_end)
                                & _fits(df.report_date_start, df.report_date_end, df.report_date_precision)),
            "date_end": _le(df.date_end, df.report_date_end)}


@rule("mode_fits_type")
def _mode_fits(df, schema):
    modes = _vocabulary_attribute(schema, "plover_mode", "event_types")
    return pd.Series([pd.isna(m) or (not pd.isna(t) and t in modes.get(m, ()))
                      for m, t in zip(df.event_mode.tolist(), df.event_type.tolist())],
                     index=df.index, dtype=bool)


@rule("acled_pair")
def _acled_pair(df, schema):
    parent = _vocabulary_attribute(schema, "acled_sub_event_type", "event_type")
    return pd.Series([(pd.isna(s) and True) or (not pd.isna(t) and parent.get(s) == t)
                      for t, s in zip(df.acled_event_type.tolist(), df.acled_sub_event_type.tolist())],
                     index=df.index, dtype=bool)


@rule("violence_is_assault")
def _violence_is_assault(df, schema):
    return ((df.event_type == "ASSAULT") == df.violent).fillna(False).astype(bool)


@rule("sharp_not_violent")
def _sharp_not_violent(df, schema):
    return (df.sharp_method.isna() | ~df.violent).fillna(False).astype(bool)


@rule("casualties_need_violence")
def _casualties(df, schema):
    return ((df.killed.isna() & df.injured.isna()) | df.violent).fillna(False).astype(bool)


@rule("place_needs_precision")
def _place_precision(df, schema):
    return _same_presence(df.place_id, df.location_precision)


@rule("every_event_has_actor")
def _every_event_has_actor(df, schema):
    return pd.Series(True, index=df.index)  # checked across tables in `validate_package`


@rule("no_self_link")
def _no_self_link(df, schema):
    return (df.event_id != df.linked_event_id).astype(bool)


@rule("paraphrase_has_verb")
def _paraphrase_verb(df, schema):
    return ((df.kind != "paraphrase") | df.reporting_verb.notna()).astype(bool)


def _iso_country(values: pd.Series) -> pd.Series:
    import pycountry
    codes = {c.alpha_3 for c in pycountry.countries}
    return values.isna() | values.isin(codes)


def _iso_subdivision(values: pd.Series) -> pd.Series:
    import pycountry
    codes = {s.code for s in pycountry.subdivisions}
    return values.isna() | values.isin(codes)


FIELD_CHECKS = {"iso_country": (_iso_country, "an ISO 3166-1 alpha-3 country code known to pycountry"),
                "iso_subdivision": (_iso_subdivision, "an ISO 3166-2 subdivision code known to pycountry")}


def _vocabulary_attribute(schema: Schema, vocabulary: str, attribute: str) -> dict:
    return {code: spec.get(attribute) for code, spec in schema.vocabularies[vocabulary].codes.items()}


def _value_checks(schema: Schema, f) -> list[tuple[str, Callable[[pd.Series], pd.Series]]]:
    """(name, ok-mask of the non-null values) of each check of field `f`'s values: pandera runs them
    (`pandera_schema`), and so does `_all_pass`, the fast road of valid tables."""
    checks = []
    if f.vocabulary:
        codes = schema.codes(f)
        checks.append(("vocabulary", lambda values: values.isin(codes)))
    if f.pattern:  # in full: `$` alone would also match before a final newline
        checks.append(("pattern", partial(_full_match, pattern=f.pattern.removesuffix("$") + r"\Z")))
    if f.type == "string":
        checks.append(("length", lambda values: values.str.len().between(1, f.max_length or float("inf"))))
    if f.minimum is not None:
        checks.append(("minimum", lambda values: values >= f.minimum))
    if f.maximum is not None:
        checks.append(("maximum", lambda values: values <= f.maximum))
    if f.check:
        checks.append((f.check, FIELD_CHECKS[f.check][0]))
    return checks


def pandera_schema(schema: Schema, table: Table, rules: bool = True, dtypes: bool = True) -> pa.DataFrameSchema:
    """The pandera schema of one table, derived from its field definitions and (unless `rules` is
    false: the build reports them itself, see `rule_failures`) its row rules; without `dtypes`, its
    columns' dtypes are left to the caller (`_dtype_failures`)."""
    columns = {}
    for f in table.fields:
        checks = [pa.Check(fn, name=name) for name, fn in _value_checks(schema, f)]
        columns[f.name] = pa.Column(DTYPES[f.type] if dtypes else None, checks=checks, nullable=f.name not in table.required,
                                    unique=table.primary_key == (f.name,), report_duplicates="all")
    checks = [pa.Check(partial(_all_parts, RULES[name], schema=schema), name=name, error=name)
              for name in table.rules] if rules else []
    composite = list(table.primary_key) if len(table.primary_key) > 1 else None
    return pa.DataFrameSchema(columns, checks=checks, strict=True, ordered=True, unique=composite,
                              report_duplicates="all", name=table.name)


def _all_pass(schema: Schema, table: Table, df: pd.DataFrame) -> bool:
    """Whether `df` passes every check of `pandera_schema(.., rules=False, dtypes=False)`: the
    columns, required values, unique keys and `_value_checks`, run directly. Pandera takes about a
    millisecond a check whatever the rows (0.13 s for one article's tables), so it runs only to
    report the failures of a table that does not pass."""
    if list(df.columns) != table.columns:
        return False
    for f in table.fields:
        column = df[f.name]
        present = column.notna()
        values = column if present.all() else column[present]
        if len(values) < len(column) and f.name in table.required:
            return False
        if table.primary_key == (f.name,) and column.duplicated().any():
            return False
        if not all(fn(values).all() for _, fn in _value_checks(schema, f)):
            return False
    return len(table.primary_key) < 2 or not df.duplicated(list(table.primary_key)).any()


def _full_match(values: pd.Series, pattern: str) -> pd.Series:
    return values.str.match(pattern).fillna(True).astype(bool)


def _all_parts(fn: RuleFn, df: pd.DataFrame, schema: Schema) -> pd.Series:
    """One ok-mask for a rule that returns one per blamed column."""
    verdict = fn(df, schema)
    parts = list(verdict.values()) if isinstance(verdict, dict) else [verdict]
    return pd.concat([p.fillna(False).astype(bool) for p in parts], axis=1).all(axis=1)


def _expected(schema: Schema, table: Table, column: str, check: str) -> tuple[str, list[str]]:
    """What a failed check expected, and the choices to suggest from."""
    f = table.field(column) if column in table.columns else None
    if check in RULES:
        return schema.rules[check], []
    if check == "vocabulary":
        return f"a code of vocabulary {f.vocabulary}", schema.codes(f)
    if check == "pattern":
        return f"text matching {f.pattern}", []
    if check == "not_nullable":
        return "a value (required)", []
    if "uniqueness" in check:
        return f"a unique key ({', '.join(table.primary_key)})", []
    if check in FIELD_CHECKS:
        return FIELD_CHECKS[check][1], []
    if check in ("minimum", "maximum", "length"):
        return f"{check} {getattr(f, check if check != 'length' else 'max_length')} ({f.description})", []
    return check, []


def validate_tables(schema: Schema, frames: dict[str, pd.DataFrame], origins: Origins,
                    names: Iterable[str] | None = None) -> Problems:
    """Run every table's (or the tables `names`') pandera column checks and row rules; report
    failures at their origin."""
    problems = Problems()
    for name in schema.tables if names is None else names:
        table = schema.tables[name]
        df = frames[name]
        wrong = _dtype_failures(table, df)
        for column, dtype in wrong:
            _report(problems, origins, name, None, column, str(dtype), f"dtype {DTYPES[table.field(column).type]}",
                    "a fault of the build, not of the annotations: please report it")
        if wrong:
            continue  # (the checks of values assume their dtypes)
        try:
            if not _all_pass(schema, table, df):
                pandera_schema(schema, table, rules=False, dtypes=False).validate(df, lazy=True)
        except SchemaErrors as exc:
            for case in exc.failure_cases.itertuples(index=False):
                check, column = str(case.check), case.column
                row = None if pd.isna(case.index) else int(case.index)
                expected, choices = _expected(schema, table, column, check)
                value = df.at[row, column] if row is not None and column in df else case.failure_case
                _report(problems, origins, name, row, column, value, expected, did_you_mean(value, choices))
        for rule, column, row in rule_failures(schema, table, df):
            involved = [c for c in schema.rule_fields[rule] if c in df.columns]
            cells = ", ".join(f"{c}={_shown(df.at[row, c])}" for c in involved)
            hint = _rule_hint(schema, rule, df, row, column) or f"this row has {cells}"
            _report(problems, origins, name, row, column, df.at[row, column], schema.rules[rule], hint)
    return problems


def _dtype_failures(table: Table, df: pd.DataFrame) -> list[tuple[str, object]]:
    """The columns of `df` whose dtype is not their field's, with it. (Pandera's own dtype check
    builds and formats a frame of failure cases for every string column that passes: a third of
    its time on one article's rows.)"""
    return [(f.name, df[f.name].dtype) for f in table.fields if f.name in df and df[f.name].dtype != DTYPES[f.type]]


def _report(problems: Problems, origins: Origins, table: str, row: int | None, column: str, value, expected: str,
            hint: str) -> None:
    where = _origin(origins, table, row, column)
    problems.add(where, where.path or f"{table}.{column}", _plain(value), expected, hint)


def _shown(value) -> str:
    value = _plain(value)
    text = "empty" if value is None else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _rule_hint(schema: Schema, check: str, df: pd.DataFrame, row: int | None, column: str = "") -> str:
    """A concrete fix for the rules whose valid values depend on another column."""
    if row is None:
        return ""
    if check == "basis_pairs":
        f = schema.fields[column]
        pair = ", ".join(f"{c}={_shown(df.at[row, c])}" for c in (f.basis_for, f.name, f.note))
        return f"this row has {pair}: fill {f.basis_for} and {f.name} together, and {f.note} for a basis other than text"
    if check == "mode_fits_type" and not pd.isna(df.at[row, "event_type"]):
        modes = [m for m, types in _vocabulary_attribute(schema, "plover_mode", "event_types").items()
                 if df.at[row, "event_type"] in types]
        return f"modes of {df.at[row, 'event_type']}: {', '.join(modes) or 'none'} (or leave event_mode out)"
    if check == "precision_fits_interval":
        start, end, _ = (column.at[row] for column in _interval(df))
        if pd.isna(start) or pd.isna(end):
            return ""
        if end < start:
            return "the interval ends before it starts: correct the dates first"
        codes = list(schema.vocabularies["date_precision"].codes)
        trial = pd.DataFrame({"date_start": [start] * len(codes), "date_end": [end] * len(codes), "date_precision": codes})
        fits = [code for code, ok in zip(codes, _precision_fits(trial, schema)["date_precision"]) if ok]
        days = (end - start).days + 1
        return f"{start:%Y-%m-%d}..{end:%Y-%m-%d} spans {days} day(s): use {' or '.join(fits)}, or correct the dates"
    if check == "acled_pair" and pd.isna(df.at[row, "acled_event_type"]):
        return "fill acled_event_type, or leave acled_sub_event_type out"
    if check == "acled_pair":
        subs = [s for s, t in _vocabulary_attribute(schema, "acled_sub_event_type", "event_type").items()
                if t == df.at[row, "acled_event_type"]]
        return f"sub-event types of {df.at[row, 'acled_event_type']}: {', '.join(subs)}" if subs else ""
    return ""


def rule_failures(schema: Schema, table: Table, df: pd.DataFrame) -> list[tuple[str, str, int]]:
    """(rule, column to blame, row) for every row that breaks one of the table's row rules.

    A rule returns an ok-mask, or one per column it blames (`basis_pairs` names the pair that
    failed). A missing verdict (NA) fails. Without a column of its own, a failing row is blamed
    on the first of the rule's fields that is empty in that row, else on the first field.
    """
    failures = []
    for name in table.rules:
        verdict = RULES[name](df, schema)
        involved = [c for c in schema.rule_fields[name] if c in df.columns]
        for column, ok in (verdict.items() if isinstance(verdict, dict) else [(None, verdict)]):
            for row in df.index[~ok.fillna(False).astype(bool)]:
                blamed = column or next((c for c in involved if pd.isna(df.at[row, c])), involved[0])
                failures.append((name, blamed, int(row)))
    return failures


def _origin(origins: Origins, table: str, row: int | None, column: str) -> Location:
    if row is None or table not in origins or row >= len(origins[table]):
        return Location(f"(table {table})")
    return origins[table][row].at(column)


def _plain(value):
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return value.item() if hasattr(value, "item") else value


def isin(values: pd.Series, known: pd.Series) -> pd.Series:
    """`values.isin(known)`; for text, in Arrow (pandas compares Arrow strings one by one in Python)."""
    if values.dtype != "string":
        return values.isin(known)
    found = pc.is_in(pyarrow.array(values, type=pyarrow.string()), value_set=pyarrow.array(known, type=pyarrow.string()))
    return pd.Series(found.fill_null(False).to_numpy(zero_copy_only=False), index=values.index)


def validate_package(schema: Schema, frames: dict[str, pd.DataFrame], texts: dict[str, str],
                     hashes: dict[str, str], origins: Origins | None = None,
                     skipped: Callable[..., bool] = lambda value, table="": False, loose_refs=()) -> Problems:
    """Checks across tables: foreign keys, then each article's own (`validate_articles`)."""
    problems = validate_references(schema, frames, origins or {}, skipped, loose_refs)
    problems.extend(validate_articles(schema, frames, texts, hashes, origins or {}))
    return problems


def validate_references(schema: Schema, frames: dict[str, pd.DataFrame], origins: Origins,
                        skipped: Callable[..., bool], loose_refs) -> Problems:
    """Every foreign key resolves (in the rows and in the items left out for another fault)."""
    problems = Problems()
    for name, table in schema.tables.items():
        df = frames[name]
        for fk in table.foreign_keys:  # single-column keys, each to a table's primary key (schema.py)
            (column,), (target,) = fk.fields, fk.reference
            known = frames[fk.table][target].dropna()
            values = df[column]
            for row, value in values[values.notna() & ~isin(values, known)].items():
                if skipped(value, fk.table):
                    continue
                where = _origin(origins, name, row, column)
                problems.add(where, where.path or f"{name}.{column}", _plain(value), f"an existing {fk.table}.{target}",
                             did_you_mean(str(value), [str(k) for k in known]))
    for doc, path, target, value in loose_refs:  # references of items left out for another fault
        (key,) = schema.tables[target].primary_key
        known = frames[target][key]
        if not skipped(value, target) and not known.isin([value]).any():
            problems.add(doc.at(path), field_path(path), value, f"an existing {target}.{key}",
                         did_you_mean(value, [str(k) for k in known.dropna()]))
    return problems


def validate_articles(schema: Schema, frames: dict[str, pd.DataFrame], texts: dict[str, str],
                      hashes: dict[str, str], origins: Origins) -> Problems:
    """What each article's rows must satisfy among themselves: every event has an actor, every
    span equals its article's characters, every article's sha256 matches."""
    problems = Problems()
    has_actor = frames["event_actors"].loc[frames["event_actors"].role == "actor", "event_id"]
    for row in frames["events"].index[~isin(frames["events"].event_id, has_actor)]:
        problems.add(_origin(origins, "events", row, "event_id"), "events.actors", None,
                     schema.rules["every_event_has_actor"], "list who acts under `actors`")
    for name, column in (("events", "evidence"), ("quotes", "text")):
        df = frames[name]
        for row, source_id, start, end, words in zip(df.index, *(df[c].tolist() for c in
                                                                 ("source_id", "char_start", "char_end", column))):
            text = texts.get(source_id)
            if text is not None and text[start:end] != words:
                problems.add(_origin(origins, name, row, column), f"{name}.{column}", words,
                             f"the article's characters {start}-{end}: {text[start:end]!r}")
    sources = frames["sources"]
    for row, source_id, sha in zip(sources.index, sources.source_id.tolist(), sources.sha256.tolist()):
        if source_id in hashes and hashes[source_id] != sha:
            problems.add(_origin(origins, "sources", row, "sha256"), "sources.sha256", sha,
                         f"the article's sha256 {hashes[source_id]}")
    return problems

