-- People we reach out to, and how we label them.
CREATE TABLE contacts (
    id BIGSERIAL PRIMARY KEY,
    email CITEXT NOT NULL UNIQUE,
    first_name VARCHAR(100),
    last_name VARCHAR(100),
    -- schemadiff:renamed-from company
    company_name VARCHAR(255),
    phone VARCHAR(50),
    sync_status sync_status NOT NULL DEFAULT 'pending',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
COMMENT ON TABLE contacts IS 'People we reach out to';
COMMENT ON COLUMN contacts.sync_status IS 'Position in the nightly sync with the upstream CRM';

-- The sync job only looks at rows that still need work.
CREATE INDEX contacts_sync_pending_idx ON contacts (updated_at) WHERE sync_status IN ('pending', 'failed');

CREATE TABLE contact_tags (
    contact_id BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    tag VARCHAR(64) NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (contact_id, tag)
);
CREATE INDEX contact_tags_tag_idx ON contact_tags (tag);
