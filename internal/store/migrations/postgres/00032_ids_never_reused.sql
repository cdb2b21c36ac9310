-- +goose Up
-- SQLite only (its rows could take a deleted row's id; see the SQLite
-- migration). PostgreSQL's identity columns never hand an id out twice. The
-- version is kept so both dialects number their migrations alike.
SELECT 1;

-- +goose Down
SELECT 1;
