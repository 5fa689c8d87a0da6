//! Diesel table definitions. Only types that mean the same on SQLite and PostgreSQL are
//! used (Text, BigInt, Integer, Bool), so one definition serves both backends.

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        email -> Nullable<Text>,
        password_hash -> Text,
        role -> Text,
        disabled -> Bool,
        token_epoch -> BigInt,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    teams (id) {
        id -> Text,
        name -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    team_members (team_id, user_id) {
        team_id -> Text,
        user_id -> Text,
        role -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        family_id -> Text,
        user_id -> Text,
        token_hash -> Text,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        revoked -> Bool,
        created_at -> BigInt,
    }
}

diesel::table! {
    api_clients (id) {
        id -> Text,
        name -> Text,
        team_id -> Text,
        secret_hash -> Text,
        scopes -> Text,
        revoked -> Bool,
        created_by -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    connections (id) {
        id -> Text,
        team_id -> Text,
        name -> Text,
        dialect -> Text,
        host -> Nullable<Text>,
        port -> Nullable<Integer>,
        database_name -> Nullable<Text>,
        username -> Nullable<Text>,
        path -> Nullable<Text>,
        ssl_mode -> Text,
        encrypted_secret -> Nullable<Text>,
        schemas -> Text,
        description -> Nullable<Text>,
        execution_mode -> Text,
        privacy -> Text,
        statement_timeout_ms -> Integer,
        max_rows -> Integer,
        sample_values -> Bool,
        created_by -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
        ca_certificate -> Nullable<Text>,
        row_filters -> Text,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        actor -> Text,
        action -> Text,
        target -> Nullable<Text>,
        detail -> Nullable<Text>,
        ip -> Nullable<Text>,
        at -> BigInt,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Text,
        account -> Text,
        ip -> Text,
        at -> BigInt,
    }
}

diesel::table! {
    request_windows (caller, window_start) {
        caller -> Text,
        window_start -> BigInt,
        hits -> BigInt,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
        updated_at -> BigInt,
    }
}

diesel::table! {
    schema_snapshots (connection_id) {
        connection_id -> Text,
        fingerprint -> Text,
        snapshot -> Text,
        taken_at -> BigInt,
    }
}

diesel::table! {
    chat_sessions (id) {
        id -> Text,
        team_id -> Text,
        connection_id -> Text,
        owner -> Text,
        title -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    messages (id) {
        id -> Text,
        session_id -> Text,
        question -> Text,
        sql_text -> Nullable<Text>,
        dialect -> Text,
        status -> Text,
        explanation -> Nullable<Text>,
        results -> Nullable<Text>,
        error_code -> Nullable<Text>,
        error_detail -> Nullable<Text>,
        provider -> Nullable<Text>,
        prompt_tokens -> BigInt,
        completion_tokens -> BigInt,
        latency_ms -> Nullable<BigInt>,
        options -> Text,
        asked_by -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        attempts -> Text,
        cost_usd -> Nullable<Double>,
        cache_entry_id -> Nullable<Text>,
        run_id -> Nullable<Text>,
    }
}

diesel::table! {
    provider_configs (id) {
        id -> Text,
        team_id -> Text,
        name -> Text,
        kind -> Text,
        base_url -> Nullable<Text>,
        model -> Nullable<Text>,
        encrypted_api_key -> Nullable<Text>,
        options -> Text,
        is_default -> Bool,
        created_by -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::joinable!(team_members -> teams (team_id));
diesel::joinable!(team_members -> users (user_id));
diesel::joinable!(messages -> chat_sessions (session_id));
diesel::allow_tables_to_appear_in_same_query!(users, teams, team_members);
diesel::allow_tables_to_appear_in_same_query!(messages, chat_sessions);

diesel::table! {
    semantic_models (connection_id, version) {
        connection_id -> Text,
        version -> Integer,
        model -> Text,
        schema_fingerprint -> Text,
        created_by -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    cache_entries (id) {
        id -> Text,
        connection_id -> Text,
        schema_fingerprint -> Text,
        semantic_version -> BigInt,
        question -> Text,
        normalized -> Text,
        guards -> Text,
        embedder -> Text,
        embedding -> Binary,
        sql_text -> Text,
        source_message_id -> Nullable<Text>,
        hits -> BigInt,
        last_used -> BigInt,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    cache_counters (connection_id) {
        connection_id -> Text,
        exact_hits -> BigInt,
        similar_hits -> BigInt,
        misses -> BigInt,
    }
}

diesel::table! {
    examples (id) {
        id -> Text,
        team_id -> Text,
        connection_id -> Text,
        question -> Text,
        sql_text -> Text,
        source -> Text,
        message_id -> Nullable<Text>,
        verified_by -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    saved_queries (id) {
        id -> Text,
        team_id -> Text,
        connection_id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        question -> Nullable<Text>,
        sql_text -> Text,
        tags -> Text,
        provider -> Nullable<Text>,
        message_id -> Nullable<Text>,
        created_by -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        search_text -> Text,
    }
}

diesel::table! {
    saved_query_tags (query_id, tag) {
        query_id -> Text,
        tag -> Text,
    }
}

diesel::table! {
    query_runs (id) {
        id -> Text,
        query_id -> Text,
        run_by -> Text,
        started_at -> BigInt,
        duration_ms -> BigInt,
        row_count -> Nullable<BigInt>,
        truncated -> Bool,
        error_code -> Nullable<Text>,
        error_detail -> Nullable<Text>,
        snapshot -> Nullable<Text>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(saved_queries, saved_query_tags);

diesel::table! {
    dashboards (id) {
        id -> Text,
        team_id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        widgets -> Text,
        refresh_seconds -> BigInt,
        created_by -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    workflows (id) {
        id -> Text,
        team_id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        enabled -> Bool,
        schedule -> Nullable<Text>,
        steps -> Text,
        next_run_at -> Nullable<BigInt>,
        created_by -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    workflow_runs (id) {
        id -> Text,
        workflow_id -> Text,
        team_id -> Text,
        status -> Text,
        run_trigger -> Text,
        scheduled_for -> Nullable<BigInt>,
        missed_slots -> BigInt,
        started_at -> Nullable<BigInt>,
        finished_at -> Nullable<BigInt>,
        steps -> Text,
        error -> Nullable<Text>,
        lease_owner -> Nullable<Text>,
        lease_expires_at -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    assistants (id) {
        id -> Text,
        team_id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        connection_id -> Text,
        provider -> Nullable<Text>,
        model -> Nullable<Text>,
        instructions -> Nullable<Text>,
        options -> Text,
        created_by -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    async_questions (id) {
        id -> Text,
        team_id -> Text,
        connection_id -> Text,
        question -> Text,
        provider -> Nullable<Text>,
        assistant_id -> Nullable<Text>,
        state -> Text,
        asked_by -> Text,
        attempts -> BigInt,
        lease_owner -> Nullable<Text>,
        lease_expires_at -> Nullable<BigInt>,
        results -> Nullable<Text>,
        error_code -> Nullable<Text>,
        error_detail -> Nullable<Text>,
        created_at -> BigInt,
        started_at -> Nullable<BigInt>,
        finished_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    connection_aliases (dw_id) {
        dw_id -> BigInt,
        connection_id -> Text,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        team_id -> Text,
        email -> Text,
        role -> Text,
        token_hash -> Text,
        invited_by -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        accepted_at -> Nullable<BigInt>,
    }
}
