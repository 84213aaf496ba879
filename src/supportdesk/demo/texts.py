"""The demo's story: who works at Northwind Cloud, what their customers write, their knowledge base.

Plain data; `supportdesk.demo.loader` turns it into rows."""

from supportdesk.auth.actor import Role
from supportdesk.tickets.states import Status

DEMO_DOMAIN = "demo.supportdesk.dev"
DEMO_ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"
# For the demo organization only: printed by the CLI, shared by every demo user. Never reuse it.
DEMO_PASSWORD = "northwind-demo"
ORGANIZATION_NAME = "Northwind Cloud"
TICKET_COUNT = 300
HISTORY_DAYS = 60
SEED = 42

STAFF = (  # (email local part, name, role); the admin signs the organization up
    ("priya.raman", "Priya Raman", Role.AGENT),
    ("marcus.chen", "Marcus Chen", Role.AGENT),
    ("sofia.alvarez", "Sofia Alvarez", Role.AGENT),
    ("tom.becker", "Tom Becker", Role.AGENT),
    ("lena.novak", "Lena Novak", Role.ANALYST),
)
ADMIN_NAME = "Dana Whitfield"

# name: (description, response SLA minutes, resolution SLA minutes, priority, share of tickets)
CATEGORIES: dict[str, tuple[str, int, int, int, int]] = {
    "Outages": ("Service down or degraded for one or more customers.", 15, 240, 1, 8),
    "Login & Access": ("Sign-in, SSO, 2FA, locked accounts and permissions.", 60, 480, 2, 22),
    "Billing": ("Invoices, payment methods, refunds and plan changes.", 240, 2880, 3, 22),
    "Integrations & API": ("API keys, webhooks, rate limits and third-party connectors.", 120, 1440, 2, 20),
    "Data & Backups": ("Exports, imports, restores and data retention.", 120, 1440, 2, 14),
    "Feature requests": ("Ideas and product feedback from customers.", 1440, 20160, 5, 14),
}

CUSTOMER_FIRST_NAMES = ("Olivia", "Noah", "Amara", "Lucas", "Mei", "Ethan", "Zara", "Jonas", "Ines", "Ravi")
CUSTOMER_LAST_NAMES = ("Hughes", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Silva", "Kowalski", "Patel")
CUSTOMER_COMPANIES = ("brightlane.io", "harbor-logistics.com", "pixelforge.co", "greenleaf.org", "quantix.ai")
CUSTOMER_COUNT = 24

FILLERS: dict[str, tuple[str, ...]] = {
    "region": ("eu-west-1", "us-east-1", "ap-southeast-2", "eu-central-1"),
    "integration": ("Salesforce", "Slack", "HubSpot", "Zapier", "Jira"),
    "error": ("502 Bad Gateway", "504 Gateway Timeout", "429 Too Many Requests", "500 Internal Server Error"),
    "browser": ("Chrome", "Firefox", "Safari", "Edge"),
    "month": ("January", "February", "March", "April", "May", "June"),
    "feature": ("dark mode", "CSV scheduling", "audit log export", "custom roles", "Terraform provider"),
    "count": ("3", "5", "12", "40", "200"),
}

# category: ((title, description), ...); {placeholders} come from FILLERS and the customer.
TICKET_TEMPLATES: dict[str, tuple[tuple[str, str], ...]] = {
    "Outages": (
        (
            "Dashboard not loading in {region}",
            "Since about 20 minutes ago the dashboard shows a spinner"
            " forever for everyone on our team. Our workloads run in {region}. Is there an incident?",
        ),
        (
            "API returning {error}",
            "All our API calls fail with {error} since this morning. This is"
            " blocking our production deploys, please look at it urgently.",
        ),
        (
            "Scheduled jobs did not run overnight",
            "None of our {count} scheduled jobs ran last night and"
            " there is nothing in the run history. Status page says all green.",
        ),
        (
            "The whole site is down",
            "Nothing loads for any of our {count} users since 9:40, the app just times out."
            " Nobody on our side can work. Is Northwind down?",
        ),
    ),
    "Login & Access": (
        (
            "Can't log in after password reset",
            "I reset my password twice and the login page still"
            " says my credentials are invalid. I'm using {browser}.",
        ),
        (
            "SSO login loops back to the sign-in page",
            "After our Okta login we get redirected back to"
            " the sign-in page in a loop. Started after we rotated our SAML certificate.",
        ),
        (
            "Lost my 2FA device",
            "My phone was replaced and I no longer have my authenticator codes."
            " How can I get back into my account?",
        ),
        (
            "New teammate did not receive the invite",
            "I invited a colleague yesterday but the email never"
            " arrived. We checked spam. Can you resend it or tell us what is wrong?",
        ),
    ),
    "Billing": (
        (
            "Charged twice for {month}",
            "Our card was charged twice for the {month} invoice. Please refund the duplicate charge.",
        ),
        (
            "Need a VAT number on our invoices",
            "Our finance team needs our VAT number on every invoice,"
            " including the past ones from {month}. Where can we add it?",
        ),
        (
            "Upgrade to annual billing",
            "We would like to move from monthly to annual billing for our"
            " {count} seats. What discount applies and is the change prorated?",
        ),
        (
            "Payment failed but card is valid",
            "We received a payment failure email, but the card works"
            " everywhere else. Can you retry the charge?",
        ),
    ),
    "Integrations & API": (
        (
            "{integration} sync stopped",
            "The {integration} integration stopped syncing new records"
            " two days ago. The connection page says 'connected' but nothing comes through.",
        ),
        (
            "Webhooks not delivered",
            "Our endpoint has not received any webhook deliveries since"
            " yesterday. We can see {error} responses in our own logs once in a while.",
        ),
        (
            "Rate limit too low for our import",
            "We hit 429 Too Many Requests when importing {count}k"
            " records through the API. Can the limit be raised for our account?",
        ),
        (
            "API key suddenly unauthorized",
            "A key that worked for months now returns 401. Nobody on our side rotated it as far as we know.",
        ),
    ),
    "Data & Backups": (
        (
            "Export to CSV is incomplete",
            "The CSV export only contains part of our data; we expect about {count}k rows and get far fewer.",
        ),
        (
            "Restore a deleted project",
            "A teammate deleted a project by mistake yesterday. Can it be restored from a backup?",
        ),
        (
            "How long do you keep our data?",
            "Our compliance team asks how long tickets, logs and"
            " backups are retained, and whether we can request deletion.",
        ),
    ),
    "Feature requests": (
        ("Request: {feature}", "It would help our team a lot to have {feature}. Is it on the roadmap?"),
        (
            "Idea: bulk actions in the ticket list",
            "We often need to close or reassign {count} tickets"
            " at once. Bulk actions would save us a lot of clicks.",
        ),
        (
            "Feedback on the new editor",
            "The new editor is great, but we miss keyboard shortcuts for headings. Could you add them?",
        ),
    ),
}

FIRST_REPLIES: dict[str, str] = {
    "Outages": "Hi {first}, thanks for reporting this. We are investigating with our on-call engineers"
    " and will update you within the hour.",
    "Login & Access": "Hi {first}, sorry about the trouble signing in. I'm looking at your account now.",
    "Billing": "Hi {first}, thanks for reaching out. I've pulled up your billing history and I'm on it.",
    "Integrations & API": "Hi {first}, thanks for the details. I'm checking the logs on our side.",
    "Data & Backups": "Hi {first}, thanks for writing in. Let me check what we can do for your data.",
    "Feature requests": "Hi {first}, thanks for the suggestion! I've shared it with our product team.",
}
RESOLUTIONS: dict[str, str] = {
    "Outages": "The incident is resolved: a faulty load balancer in {region} was replaced. Sorry for"
    " the disruption; a post-mortem will follow on our status page.",
    "Login & Access": "Your access is restored. If it happens again, clearing cookies usually helps.",
    "Billing": "Done: the correction is applied and you'll see it on your next invoice.",
    "Integrations & API": "We found the cause and deployed a fix; the sync is running again.",
    "Data & Backups": "All set: the data is back and the export now contains every row.",
    "Feature requests": "It's now tracked on our public roadmap; we'll let you know when it ships.",
}
CUSTOMER_REPLIES = (
    "Thanks, any news on this?",
    "I tried that but it still happens. Screenshot attached.",
    "That worked for me, but a colleague still sees the problem.",
    "Here are the details you asked for: account ID and the exact time it happened.",
)
FOLLOW_UPS = (
    "Thanks, that helps. I've reproduced it and passed it to the right team.",
    "Could you try once more now? We've just deployed a change that should fix it.",
    "Thanks for your patience, we're close to a fix.",
)
PENDING_ASKS = (
    "Could you send us the request ID from the response headers so we can trace it?",
    "Could you confirm which workspace this happens in? I'll wait for your answer.",
)
NOTES = (
    "Checked the logs: matches the known issue from last week's release.",
    "Customer is on a large account, keep them posted proactively.",
    "Confirmed with engineering that the fix is deployed everywhere.",
)
ESCALATIONS = ("Escalated to engineering as ENG-{count}41; waiting on their fix.",)
ON_HOLD_REPLIES = (
    "We've escalated this to our engineering team and will update you as soon as we hear back.",
)
NEW_FOLLOW_UPS = ("Any update? This is still blocking us.", "Adding: it also happens for a second user.")

DOCUMENTS = (  # (title, public, categories, paragraphs)
    (
        "Resetting your password",
        True,
        ("Login & Access",),
        (
            "Open the sign-in page and choose 'Forgot password'. We email a reset link valid for one hour.",
            "If the email does not arrive, check your spam folder and that your admin has not switched your"
            " workspace to single sign-on, in which case your identity provider manages your password.",
            "Still stuck? Contact support with the email address you sign in with.",
        ),
    ),
    (
        "Setting up SAML single sign-on",
        True,
        ("Login & Access",),
        (
            "Admins can enable SAML SSO under Settings > Security. You need your identity provider's metadata"
            " URL or XML and must map the email attribute.",
            "When you rotate your IdP signing certificate, upload the new one before the old one expires,"
            " otherwise users are sent back to the sign-in page in a loop.",
        ),
    ),
    (
        "Recovering access without your 2FA device",
        True,
        ("Login & Access",),
        (
            "Use one of the recovery codes you saved when enabling two-factor authentication.",
            "Without recovery codes, an admin of your workspace can reset your 2FA. Support can do so only"
            " after verifying your identity with your account owner.",
        ),
    ),
    (
        "Understanding your invoice",
        True,
        ("Billing",),
        (
            "Invoices are issued on the first day of each billing period and list every seat and add-on.",
            "Add your VAT number under Settings > Billing; it appears on all future invoices. Past invoices"
            " can be reissued on request.",
        ),
    ),
    (
        "Refunds and duplicate charges (internal)",
        False,
        ("Billing",),
        (
            "Duplicate charges are refunded in full without approval; use the billing console's refund action"
            " and add the refund ID to the ticket as an internal note.",
            "Refunds above 500 EUR for any other reason need a team lead's approval.",
        ),
    ),
    (
        "API rate limits",
        True,
        ("Integrations & API",),
        (
            "Each API key may make 600 requests per minute; bursts are answered with 429 and a Retry-After"
            " header telling you when to try again.",
            "For large imports, use the bulk endpoints or ask support for a temporary higher limit.",
        ),
    ),
    (
        "Troubleshooting webhooks",
        True,
        ("Integrations & API",),
        (
            "We retry failed deliveries with exponential backoff for 24 hours. A delivery fails when your"
            " endpoint answers with a non-2xx status or takes longer than 10 seconds.",
            "Verify the signature header with your webhook secret, and check the deliveries log for status"
            " codes.",
        ),
    ),
    (
        "Connecting Salesforce and HubSpot",
        True,
        ("Integrations & API",),
        (
            "Open Integrations, choose the connector and authorize it with an account that can read and write"
            " contacts.",
            "If a sync stops, reconnecting refreshes the OAuth token; expired tokens are the usual cause.",
        ),
    ),
    (
        "Exporting your data",
        True,
        ("Data & Backups",),
        (
            "Admins can export tickets, users and documents as CSV under Settings > Data. Large exports are"
            " prepared in the background and emailed as a download link.",
            "Exports include archived records only when 'include archived' is checked.",
        ),
    ),
    (
        "Restore procedure (internal)",
        False,
        ("Data & Backups",),
        (
            "Deleted projects stay in the archive for 30 days. Restore them from the operator console after"
            " confirming the request with an admin of the workspace.",
            "Older data needs a point-in-time restore by the infrastructure team; open an ENG ticket.",
        ),
    ),
    (
        "Incident response runbook (internal)",
        False,
        ("Outages",),
        (
            "Acknowledge outage tickets within 15 minutes, link them to the incident in the status page tool"
            " and post updates every 30 minutes.",
            "After the incident, resolve all linked tickets with the summary and a link to the post-mortem.",
        ),
    ),
    (
        "How we handle feature requests",
        True,
        ("Feature requests",),
        (
            "Every request is read by the product team and tracked on our public roadmap.",
            "We prioritise by how many customers ask and how much it helps them; we'll update your ticket"
            " when the feature ships.",
        ),
    ),
)

# Age of a ticket (days) -> weights of its final status: old tickets are mostly done.
OUTCOME_WEIGHTS: tuple[tuple[float, dict[Status, int]], ...] = (
    (1, {Status.NEW: 35, Status.OPEN: 35, Status.PENDING: 15, Status.ON_HOLD: 5, Status.RESOLVED: 10}),
    (7, {Status.OPEN: 15, Status.PENDING: 15, Status.ON_HOLD: 10, Status.RESOLVED: 40, Status.CLOSED: 20}),
    (HISTORY_DAYS, {Status.PENDING: 3, Status.ON_HOLD: 2, Status.RESOLVED: 20, Status.CLOSED: 75}),
)
CRITICALITY = {"Outages": ("high", "critical")}
OTHER_CRITICALITY = ("low", "low", "medium", "medium", "high")
