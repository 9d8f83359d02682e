"""mist_hf.table_files: one reader of named columns for the command line and the pairwise scale-out, CSV and
parquet, whose every refusal names the column and the line."""

import re

import numpy as np
import pandas as pd
import pytest

from mist_hf.table_files import check_numeric, csv_header, load_table, not_csv, read_columns, table_columns


def test_load_table(tmp_path):
    data = np.random.default_rng(0).lognormal(0, 0.3, size=(300, 3))
    np.save(tmp_path / "a.npy", data)
    np.testing.assert_array_equal(load_table(tmp_path / "a.npy"), data)
    np.savetxt(tmp_path / "a.csv", data, delimiter=",", header="p,q,r", comments="")
    np.testing.assert_allclose(load_table(tmp_path / "a.csv"), data, rtol=1e-6)
    np.savetxt(tmp_path / "a.tsv", data, delimiter="\t")
    np.testing.assert_allclose(load_table(str(tmp_path / "a.tsv")), data, rtol=1e-6)
    np.savetxt(tmp_path / "b.txt", data)
    assert load_table(tmp_path / "b.txt").shape == data.shape
    np.save(tmp_path / "v.npy", data[:, 0])
    np.testing.assert_array_equal(load_table(tmp_path / "v.npy"), data[:, :1])  # 1-D: one column


def test_load_table_rejects_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such data file"):
        load_table(tmp_path / "missing.csv")
    (tmp_path / "a.parquet").write_text("x")
    with pytest.raises(ValueError, match="unsupported"):
        load_table(tmp_path / "a.parquet")
    (tmp_path / "words.csv").write_text("a,b\nx,y\nz,w\n")
    with pytest.raises(ValueError, match="not a numeric table"):
        load_table(tmp_path / "words.csv")
    np.save(tmp_path / "s.npy", np.array([["a", "b"]] * 30))
    with pytest.raises(ValueError, match="is not numeric"):
        load_table(tmp_path / "s.npy")
    (tmp_path / "nan.csv").write_text("a,b\n1,2\nnan,3\n")
    with pytest.raises(ValueError, match="NaN or infinite"):
        load_table(tmp_path / "nan.csv")
    np.save(tmp_path / "cube.npy", np.zeros((4, 5, 6)))
    with pytest.raises(ValueError, match="2-D"):
        load_table(tmp_path / "cube.npy")


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text(" a , b,label\n1,2,x\n\n3.5,-4,y\n")
    return path


def test_read_columns_and_header(csv_file):
    assert csv_header(csv_file) == ["a", "b", "label"]
    data = read_columns(csv_file, ["b", "a"])
    np.testing.assert_array_equal(data, [[2.0, 1.0], [-4.0, 3.5]])  # named order, blank lines skipped
    assert data.dtype == np.float64
    assert read_columns(str(csv_file), ["a"]).shape == (2, 1)


def test_read_columns_and_header_reject_bad_files(csv_file, tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        read_columns(tmp_path / "none.csv", ["a"])
    with pytest.raises(OSError, match="No such file"):
        csv_header(tmp_path / "none.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValueError, match="is empty"):
        read_columns(tmp_path / "empty.csv", ["a"])
    assert csv_header(tmp_path / "empty.csv") == []
    with pytest.raises(ValueError, match=r"column\(s\) not in data.csv: zzz \(it has: a, b, label\)"):
        read_columns(csv_file, ["a", "zzz"])
    with pytest.raises(ValueError, match="column 'label' is not numeric: 'x' on line 2"):
        read_columns(csv_file, ["label"])
    (tmp_path / "short.csv").write_text("a,b\n1,2\n3\n")
    for names in (["b"], ["a"]):  # a short row is malformed even when the asked-for columns are in it
        with pytest.raises(ValueError, match=r"^line 3 has 1 fields but the header has 2: no value for column 'b'$"):
            read_columns(tmp_path / "short.csv", names)
    (tmp_path / "long.csv").write_text("a,b\n1,2\n\n3,4,5\n")
    for names in (["b"], ["a", "b"]):  # blank line 3 is skipped; line 4 has a third field no column names
        with pytest.raises(
            ValueError, match=r"^line 4 has 3 fields but the header has 2: 1 extra after the last column 'b'$"
        ):
            read_columns(tmp_path / "long.csv", names)
    (tmp_path / "cells.csv").write_text("a,b\n1,\n2,NA\n3,4\n")
    with pytest.raises(ValueError, match=r"^column 'b' has a missing value \(''\) on line 2; drop rows with missing"):
        read_columns(tmp_path / "cells.csv", ["b"])
    np.testing.assert_array_equal(read_columns(tmp_path / "cells.csv", ["a"]), [[1.0], [2.0], [3.0]])  # b unread
    with pytest.warns(
        UserWarning, match=r"^dropped 2 row\(s\) of cells.csv with missing values in the columns read; 1"
    ):
        np.testing.assert_array_equal(read_columns(tmp_path / "cells.csv", ["a", "b"], dropna=True), [[3.0, 4.0]])


def test_csv_files_as_spreadsheets_write_them(tmp_path):
    """A byte-order mark (Excel), semicolons or tabs between fields: the same columns come out."""
    body = "a;b\n1;2\n3;4\n"
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + body.replace(";", ",").encode())
    (tmp_path / "semi.csv").write_text(body)
    (tmp_path / "tabs.tsv").write_text(body.replace(";", "\t"))
    for name in ("bom.csv", "semi.csv", "tabs.tsv"):
        assert csv_header(tmp_path / name) == ["a", "b"], name
        np.testing.assert_array_equal(read_columns(tmp_path / name, ["b", "a"]), [[2, 1], [4, 3]])


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"a,a,b\n1,2,3\n", r"^the header of bad.csv has duplicate column name\(s\): 'a'; rename them"),
        (b"a,b\n1,nan\n", r"^column 'b' has a missing value \('nan'\) on line 2; drop rows with missing values with"),
        (b"a,b\n1,inf\n", r"^column 'b' is 'inf' on line 2: NaN and infinite values are not data$"),
        (b"a,b\n1,\xe9\n", r"^bad.csv is not UTF-8 text \(invalid continuation byte at byte 6\)$"),
        (
            b'a,b\n1,"2\n3,4\n' + b"5,6\n" * 50,
            r"^bad.csv is not valid CSV in the record that starts on line 2: unexpected end of data$",
        ),
        (b"a,b\n1," + b"x" * 200 + b"\n", r"^column 'b' is not numeric: 'x{40}\.\.\.' on line 2$"),
    ],
    ids=["duplicate header", "nan", "inf", "latin-1", "unterminated quote", "long cell"],
)
def test_bad_csv_files_are_named_with_the_place(tmp_path, content, match):
    (tmp_path / "bad.csv").write_bytes(content)
    with pytest.raises(ValueError, match=match):
        read_columns(tmp_path / "bad.csv", ["a", "b"])


def test_errors_name_the_physical_line_after_a_cell_that_spans_lines(tmp_path):
    """A quoted cell may hold a line break: the line numbers of later errors count the file's lines, as an editor
    shows them (the record with the missing value starts on line 4, not 3)."""
    path = tmp_path / "multi.csv"
    path.write_text('a,note\n1,"two\nlines"\nNA,x\n')
    with pytest.raises(ValueError, match=r"^column 'a' has a missing value \('NA'\) on line 4;"):
        read_columns(path, ["a"])


def test_dropna_counts_the_rows_it_drops_not_their_missing_cells(tmp_path):
    """Rows with two and three missing cells each: 3 rows are dropped (7 missing cells), and the warning says 3."""
    path = tmp_path / "gaps.csv"
    path.write_text("a,b,c\n1,2,3\nNA,,3\n,NA,\n4,5,6\n-,n/a,9\n7,8,9\n")
    with pytest.warns(
        UserWarning, match=r"^dropped 3 row\(s\) of gaps.csv with missing values in the columns read; 3 remain$"
    ):
        data = read_columns(path, ["a", "b", "c"], dropna=True)
    np.testing.assert_array_equal(data, [[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    # keep_missing: every row, missing cells as NaN (for per-pair use); never both
    kept = read_columns(path, ["a", "b"], keep_missing=True)
    assert kept.shape == (6, 2) and np.isnan(kept).any(axis=1).sum() == 3 and np.isnan(kept).sum() == 6
    with pytest.raises(ValueError, match="not both"):
        read_columns(path, ["a"], dropna=True, keep_missing=True)


def test_integers_that_float64_merges_are_an_error_naming_the_column(tmp_path):
    """IDs beyond 2**53 differ in digits float64 drops: read as floats they were ties (all 5 equal here, so the
    estimator called the column constant). Large integers that stay distinct in float64 still read."""
    ids = tmp_path / "ids.csv"
    ids.write_text("id,v\n" + "".join(f"{12345678901234567890 + i},{i}\n" for i in range(5)))
    with pytest.raises(
        ValueError,
        match=r"^column 'id' holds integers that float64 cannot tell apart: 12345678901234567890 \(line 2\) and "
        r"12345678901234567891 \(line 3\) both read as 1.2345678901234567e\+19; integers beyond 2\*\*53",
    ):
        read_columns(ids, ["v", "id"])
    np.testing.assert_array_equal(read_columns(ids, ["v"])[:, 0], np.arange(5))  # an unread column is not checked
    edge = tmp_path / "edge.csv"  # 2**53 + 1 reads as 2**53, which is also in the file
    edge.write_text("a\n9007199254740993\n1\n9007199254740992\n")
    with pytest.raises(ValueError, match=r"9007199254740992 \(line 4\) and 9007199254740993 \(line 2\)"):
        read_columns(edge, ["a"])
    nanoseconds = tmp_path / "ns.csv"  # epoch nanoseconds a millisecond apart: rounded, but still distinct
    nanoseconds.write_text("t\n" + "".join(f"{1_700_000_000_000_000_000 + i * 1_000_000}\n" for i in range(5)))
    assert len(np.unique(read_columns(nanoseconds, ["t"]))) == 5


def test_files_that_are_not_csv_text_are_named_as_what_they_are(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"a": [1.0, 2.0], "b": [3.0, 4.0]}), path)
    message = r"^t.parquet is a Parquet file, not CSV text: mist-mi reads CSV files only .*pandas.read_parquet"
    assert re.match(message, not_csv(path))  # what the command line says (it reads CSV text only)
    with pytest.raises(ValueError, match=message):
        csv_header(path)
    np.testing.assert_array_equal(read_columns(path, ["b", "a"]), [[3, 1], [4, 2]])  # the scale-out reads parquet
    (tmp_path / "book.xlsx").write_bytes(b"PK\x03\x04" + bytes(range(256)))
    with pytest.raises(ValueError, match=r"^book.xlsx is a ZIP archive \(an .xlsx workbook, say\), not CSV text"):
        read_columns(tmp_path / "book.xlsx", ["a"])
    (tmp_path / "named.parquet").write_text("a,b\n1,2\n")  # only the content counts: this one is CSV
    np.testing.assert_array_equal(read_columns(tmp_path / "named.parquet", ["a", "b"]), [[1, 2]])


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_read_only_the_named_columns(tables, suffix):
    folder, frame = tables
    path = folder / f"t.{suffix}"
    assert table_columns(path) == list(frame.columns)
    data = read_columns(path, ["c", "flag"], keep_missing=True)
    assert data.shape == (120, 2) and data.dtype == np.float64
    np.testing.assert_allclose(data[:, 0], frame["c"].to_numpy(), equal_nan=True)
    assert np.isnan(data[5, 0]) and set(np.unique(data[:, 1])) <= {0.0, 1.0}
    with pytest.raises(ValueError, match=r"column 'c' has a missing value \(.*\) on (line 7|row 6); drop rows"):
        read_columns(path, ["c"])
    with pytest.raises(ValueError, match=rf"column\(s\) not in t\.{suffix}: zz \(it has: a, b, c, d, e, flag, label\)"):
        read_columns(path, ["a", "zz"])
    with pytest.raises(ValueError, match="'label' is not numeric"):
        read_columns(path, ["label"])
    check_numeric(path, ["a", "c", "flag"])
    with pytest.raises(ValueError, match=r"1 column\(s\) are not numeric: 'label'"):
        check_numeric(path, ["a", "label"])


def test_unsupported_or_missing_tables_raise(tmp_path):
    (tmp_path / "t.xlsx").write_text("x")
    with pytest.raises(ValueError, match=r"must be \.csv, \.tsv or \.parquet"):
        table_columns(tmp_path / "t.xlsx")
    with pytest.raises(ValueError, match="no such file"):
        read_columns(tmp_path / "none.csv", ["a"])
    with pytest.raises(FileNotFoundError, match="no such table"):
        check_numeric(tmp_path / "none.csv", ["a"])


def test_a_text_value_late_in_a_csv_is_found_before_any_estimate(tmp_path):
    """pyarrow's streaming reader infers types from the first block (1 MB) only; the check reads to the end."""
    import pyarrow.csv as pacsv

    rows = 50_000
    path = tmp_path / "late.csv"
    values = np.round(np.random.default_rng(0).normal(size=(rows, 3)), 6)
    text = "a,label,b\n" + "".join(f"{a},{x},{b}\n" for a, x, b in values) + "1.0,oops,2.0\n"
    path.write_text(text)
    assert path.stat().st_size > 1.2e6
    with pacsv.open_csv(path) as reader:  # what the first block says
        assert str(reader.schema.field("label").type) == "double"
    check_numeric(path, ["a", "b"])
    with pytest.raises(ValueError, match=r"1 column\(s\) are not numeric: 'label' \(e.g. 'oops'\)"):
        check_numeric(path, ["a", "label", "b"])
    with pytest.raises(ValueError, match="'label' is not numeric"):  # the estimate reads it as the check does
        read_columns(path, ["label"])


def test_text_columns_are_named_and_booleans_and_blanks_are_numbers(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,flag,name,note,empty\n1, 2 ,true,x,\nNA,3,False,1.5,\n2.5,,1.5,y,\n")
    data = read_columns(path, ["a", "flag", "empty"], keep_missing=True)
    np.testing.assert_array_equal(data[:, 0], [1.0, np.nan, 2.5])
    np.testing.assert_array_equal(data[:, 1], [2.0, 3.0, np.nan])
    assert np.isnan(data[:, 2]).all()
    check_numeric(path, ["a", "flag", "empty"])
    with pytest.raises(ValueError, match=r"2 column\(s\) are not numeric: 'name' \(e.g. '(true|False)'\), 'note'"):
        check_numeric(path, ["a", "name", "note"])
    (tmp_path / "b.csv").write_text("t,u\ntrue,1\nFALSE,2\n,3\n1,4\n")
    np.testing.assert_array_equal(read_columns(tmp_path / "b.csv", ["t"], keep_missing=True)[:, 0], [1, 0, np.nan, 1])


# ---- one reader, one set of rules for the command line and the scale-out ---------------------------------------


def test_infinite_values_are_refused_by_the_read_and_by_the_check_before_any_work(tmp_path):
    """The scale-out once read 'inf' as a number (and dropped its row from the pair unsaid); now the check before
    any work refuses it as the command line always did, naming the line."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n3,inf\n5,6\n")
    message = r"^column 'b' is 'inf' on line 3: NaN and infinite values are not data$"
    with pytest.raises(ValueError, match=message):
        read_columns(path, ["a", "b"], keep_missing=True)
    with pytest.raises(ValueError, match=message):
        check_numeric(path, ["a", "b"])
    check_numeric(path, ["a"])
    pq.write_table(pa.table({"a": [1.0, 2.0, 3.0], "b": [1.0, float("-inf"), 2.0]}), tmp_path / "t.parquet")
    with pytest.raises(ValueError, match=r"^column 'b' is '-inf' on row 2: NaN and infinite"):
        check_numeric(tmp_path / "t.parquet", ["a", "b"])
    with pytest.raises(ValueError, match=r"^column 'b' is '-inf' on row 2: NaN and infinite"):
        read_columns(tmp_path / "t.parquet", ["b"])


def test_merged_integers_are_found_by_the_streaming_check_across_blocks(tmp_path):
    """Two IDs float64 cannot tell apart, one at the start and one past pyarrow's first block: the check streams
    the file and still pairs them, with their lines; the scale-out once read them as ties."""
    path = tmp_path / "ids.csv"
    filler = "".join(f"{i},{i % 7}.25\n" for i in range(120_000))
    path.write_text("id,v\n12345678901234567890,0\n" + filler + "12345678901234567891,1\n")
    assert path.stat().st_size > 1.2e6
    message = (
        r"^column 'id' holds integers that float64 cannot tell apart: 12345678901234567890 \(line 2\) and "
        r"12345678901234567891 \(line 120003\) both read as"
    )
    with pytest.raises(ValueError, match=message):
        check_numeric(path, ["v", "id"])
    with pytest.raises(ValueError, match=message):
        read_columns(path, ["id"], keep_missing=True)
    check_numeric(path, ["v"])


def test_the_command_lines_csv_and_the_scale_outs_read_the_same_cells_the_same_way(tmp_path):
    """Semicolons, a byte-order mark, blanks around cells, booleans, the missing-value markers of either reader
    before: one set of rules, so both callers get the same numbers."""
    path = tmp_path / "t.csv"
    path.write_bytes(b"\xef\xbb\xbfa; flag ;b\n1.5; true ;NA\n-2;FALSE; none \n3;1;-\n")
    assert table_columns(path) == ["a", "flag", "b"] == csv_header(path)
    data = read_columns(path, ["a", "flag", "b"], keep_missing=True)
    np.testing.assert_array_equal(data, [[1.5, 1, np.nan], [-2, 0, np.nan], [3, 1, np.nan]])
    check_numeric(path, ["a", "flag", "b"])
    with pytest.raises(ValueError, match=r"^column 'b' has a missing value \('NA'\) on line 2; drop rows"):
        read_columns(path, ["a", "b"])
    with pytest.raises(ValueError, match=r"^column\(s\) not in t.csv: c \(it has: a, flag, b\)$"):
        read_columns(path, ["c"])
    wide = tmp_path / "wide.csv"
    pd.DataFrame(np.zeros((2, 40))).add_prefix("c").to_csv(wide, index=False)
    shown = r"\(it has: 40 columns, c0, c1, c2, c3, c4, \.\.\.\)$"  # not all 40 names
    with pytest.raises(ValueError, match=r"^column\(s\) not in wide.csv: zz " + shown):
        read_columns(wide, ["zz"])
