-- Lead scoring and the history of every lead's status.
CREATE TABLE qualification_scores (
    id SERIAL PRIMARY KEY,
    lead_id VARCHAR(255) UNIQUE NOT NULL,
    score INTEGER NOT NULL CHECK (score >= 0 AND score <= 100),
    factors JSONB,
    confidence DECIMAL(3,2),
    model_version VARCHAR(32),
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_qualification_scores_score ON qualification_scores (score DESC);
-- Re-scoring jobs pick up every lead scored by an older model.
CREATE INDEX idx_qualification_scores_model_version ON qualification_scores (model_version);

CREATE TABLE lead_history (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lead_id VARCHAR(255) NOT NULL,
    contact_id BIGINT REFERENCES contacts (id) ON DELETE SET NULL,
    old_status VARCHAR(50),
    new_status VARCHAR(50) NOT NULL,
    changed_by VARCHAR(100),
    changed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX lead_history_lead_idx ON lead_history (lead_id, changed_at DESC);

CREATE TABLE call_analytics (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    call_sid VARCHAR(64) NOT NULL UNIQUE,
    duration_seconds INTEGER NOT NULL DEFAULT 0 CHECK (duration_seconds >= 0),
    sentiment NUMERIC(4,3),
    transcript TEXT,
    outcome VARCHAR(32),
    called_at TIMESTAMPTZ NOT NULL,
    duration_minutes NUMERIC GENERATED ALWAYS AS (duration_seconds / 60.0) STORED,
    CONSTRAINT call_analytics_sentiment_range CHECK (sentiment BETWEEN -1 AND 1)
);
CREATE INDEX call_analytics_contact_called_idx ON call_analytics (contact_id, called_at DESC);
-- The coaching report reads calls by outcome.
CREATE INDEX call_analytics_outcome_idx ON call_analytics (outcome) WHERE outcome IS NOT NULL;
COMMENT ON TABLE call_analytics IS 'One row per recorded sales call';
