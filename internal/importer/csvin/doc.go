// Package csvin is the streaming parsing layer of the CRM's CSV import.
//
// It owns everything between the uploaded bytes and typed cell values:
// byte-order marks, delimiter sniffing (',', ';' or tab), quoting and line
// endings (via encoding/csv), header validation, exact line:column positions
// for every record and field, and the parsers that turn the text of one cell
// into a typed value (dates, timestamps, booleans, integers, money, enums,
// e-mail addresses and domains). It knows nothing about the database, the
// field mapping or the CRM schema; errors it returns are short and meant to
// be shown to the person who uploaded the file.
//
// Reading is streaming and allocation-light: Reader.Next reuses its record
// slice, so a Row and its Fields are only valid until the next call.
// A *RowError from Next describes one bad record (ragged row, stray quote)
// and reading may continue; any other error, including a *FatalError, ends
// the file.
//
// # Why dates are decided per column
//
// "03/04/2024" is the 3rd of April in most of the world and March 4th in the
// US, and exports from HubSpot, Salesforce and Excel carry whichever
// convention the exporting user's locale had. A single value cannot tell the
// two apart, and guessing per cell would silently mix both readings in one
// column. A column, however, almost always uses one convention and usually
// contains at least one value whose day is above 12, which settles it. So the
// importer feeds each date column to a DateDetector in a first streaming
// pass; the resulting Decision (day-first, month-first, or an explicitly
// reported assumption when nothing settled it) is then applied to every cell
// of that column by ParseDate. Values that contradict each other within one
// column are reported as a conflict instead of being guessed.
package csvin
