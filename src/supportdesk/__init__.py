"""supportdesk: a multi-tenant, AI-assisted customer support platform."""
