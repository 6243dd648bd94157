-- Schemas and types shared by the rest of the CRM schema.
CREATE SCHEMA marketing;
COMMENT ON SCHEMA marketing IS 'Campaigns and outreach content';

CREATE EXTENSION IF NOT EXISTS citext;

-- Where a record stands in the nightly sync with the upstream CRM.
CREATE TYPE sync_status AS ENUM ('pending', 'syncing', 'synced', 'failed');
