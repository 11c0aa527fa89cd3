//! The Metro 2 format engine: layouts, reader, writer, validator, JSON view, cycle diff.
