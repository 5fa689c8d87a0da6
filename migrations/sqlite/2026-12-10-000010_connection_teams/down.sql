DROP INDEX api_clients_secret_hash;
DROP TABLE managed_users;
DROP TABLE connection_teams;
