// Seed 002's five daily jobs as a working pipeline on the sample campaign that
// ships with the product: lead research adds NEW leads, enrichment scores them
// A, B or C, drafting writes outreach for the best of them and submits it for
// approval (its task waits at the gate; its send step goes through dry-run),
// content creation drafts a post likewise, and the brief sums the day up from
// its events. Every step works through ctx.outreach (core/outreach/host.ts),
// never the database, and may run again: leads are keyed by their email,
// drafts by their lead, and moves that repeat change nothing.

export interface Job {
  name: string;
  cron: string;
  description: string;
  steps: { name: string; code: string; input: unknown; approval?: boolean }[];
}

/** The campaign the jobs work on, created with the examples. */
export const SAMPLE_CAMPAIGN = {
  name: 'Spring dealer outreach',
  description: 'Sample data that ships with Mission Control: dealerships and fleet managers in the Greater Toronto Area.',
  channels: ['EMAIL', 'LINKEDIN'] as ('EMAIL' | 'LINKEDIN')[],
};

const SAMPLE_LEADS = [
  { name: 'Dana Whitfield', company: 'Northside Motors', email: 'dana@northside-motors.example', website: 'https://northside-motors.example', employees: 120 },
  { name: 'Raj Patel', company: 'Lakeshore Fleet', email: 'raj@lakeshore-fleet.example', website: 'https://lakeshore-fleet.example', employees: 35 },
  { name: 'Mei Chen', company: 'Corner Garage', email: 'mei@corner-garage.example', website: 'https://corner-garage.example', employees: 4 },
  { name: 'Luc Tremblay', company: 'Eastgate Auto Group', email: 'luc@eastgate-auto.example', website: 'https://eastgate-auto.example', employees: 240 },
  { name: 'Aisha Mohamed', company: 'Metro Van Rentals', email: 'aisha@metro-van.example', website: 'https://metro-van.example', employees: 60 },
  { name: 'Tom Kowalski', company: 'Harbour Trucks', email: 'tom@harbour-trucks.example', website: 'https://harbour-trucks.example', employees: 15 },
];

/** The sample campaign by name, active: the jobs' shared first line. */
const campaignOf = `const [campaign] = (await ctx.outreach.campaigns({ status: 'active' })).filter((c) => c.name === input.campaign);
  if (!campaign) throw new Error(\`no active campaign named "\${input.campaign}": activate it on the Campaigns page\`);`;

export const DAILY_JOBS: Job[] = [
  {
    name: 'lead_research',
    cron: '0 9 * * *',
    description: 'Find new leads for the campaign (sample data: six dealerships and fleets).',
    steps: [{
      name: 'research',
      input: { campaign: SAMPLE_CAMPAIGN.name, leads: SAMPLE_LEADS },
      code: `async (input, ctx) => {
  ${campaignOf}
  let added = 0;
  for (const l of input.leads) {
    const { created } = await ctx.outreach.createLead({
      campaignId: campaign.id, name: l.name, company: l.company, email: l.email, website: l.website,
      notes: \`employees: \${l.employees}\`, key: l.email,
    });
    if (created) added++;
  }
  ctx.log(\`\${added} new leads of \${input.leads.length} found\`);
  return { found: input.leads.length, added };
}`,
    }],
  },
  {
    name: 'enrichment_scoring',
    cron: '30 9 * * *',
    description: 'Enrich the new leads and score them A, B or C.',
    steps: [{
      name: 'score',
      input: { campaign: SAMPLE_CAMPAIGN.name, a: 100, b: 20 },
      code: `async (input, ctx) => {
  ${campaignOf}
  const scored = [];
  for (const lead of await ctx.outreach.leads({ campaignId: campaign.id, status: 'NEW' })) {
    const employees = Number((/employees: (\\d+)/.exec(lead.notes) || [])[1] || 0);
    const score = employees >= input.a ? 'A' : employees >= input.b ? 'B' : 'C';
    await ctx.outreach.updateLead(lead.id, { score });
    await ctx.outreach.moveLead(lead.id, 'ENRICHED', \`\${employees} employees\`);
    scored.push({ lead: lead.name, company: lead.company, score });
  }
  ctx.log('scores', scored.map((s) => s.score).join('') || 'none');
  return { scored };
}`,
    }],
  },
  {
    name: 'outreach_drafting_qa',
    cron: '30 10 * * *',
    description: 'Draft outreach for A and B leads and push it to approvals; approved drafts are queued on the email channel.',
    steps: [
      {
        name: 'draft',
        approval: true,
        input: { campaign: SAMPLE_CAMPAIGN.name, scores: ['A', 'B'] },
        code: `async (input, ctx) => {
  ${campaignOf}
  const drafts = [];
  for (const lead of await ctx.outreach.leads({ campaignId: campaign.id, status: 'ENRICHED' })) {
    if (!input.scores.includes(lead.effectiveScore)) continue;
    const subject = \`A faster way to list inventory, \${lead.company}\`;
    const body = \`Hi \${lead.name.split(' ')[0]},\\n\\nWe help teams like \${lead.company} post inventory in minutes.\${ctx.notes ? '\\n\\n' + ctx.notes : ''}\`;
    const { draft } = await ctx.outreach.createDraft({
      campaignId: campaign.id, leadId: lead.id, channel: 'EMAIL', subject, body, key: \`outreach:\${lead.id}\`, submit: true,
    });
    await ctx.outreach.moveLead(lead.id, 'DRAFTED');
    drafts.push({ draftId: draft.id, to: lead.email, subject, body });
  }
  if (drafts.length) {
    const day = new Date(ctx.now()).toISOString().slice(0, 10);
    const { task } = await ctx.outreach.createTask({
      title: \`Review the outreach drafts of \${day}\`, column: 'NEEDS_APPROVAL', campaignId: campaign.id, key: \`review:\${day}\`,
      description: \`\${drafts.length} drafts wait in the inbox; an admin sets this DONE once they are decided.\`,
    });
    await ctx.outreach.noteTask(task.id, drafts.map((d) => d.subject).join('\\n'));
  }
  return { drafts };
}`,
      },
      {
        name: 'queue_send',
        input: {},
        code: `async (input, ctx) => {
  const results = [];
  for (const d of ctx.previous.draft.drafts) results.push(await ctx.outbound.send('email', { to: d.to, subject: d.subject, body: d.body }));
  return { queued: results.length, results };
}`,
      },
    ],
  },
  {
    name: 'content_research_creation_qa',
    cron: '0 12 * * *',
    description: 'Research a topic and draft a post, pushed to approvals.',
    steps: [{
      name: 'post',
      approval: true,
      input: { campaign: SAMPLE_CAMPAIGN.name, topic: 'spring inventory', channel: 'LINKEDIN' },
      code: `async (input, ctx) => {
  ${campaignOf}
  const day = new Date(ctx.now()).toISOString().slice(0, 10);
  const body = \`Three things buyers ask about \${input.topic}, and how we answer them.\`;
  const { draft } = await ctx.outreach.createDraft({
    campaignId: campaign.id, channel: input.channel, subject: \`Post: \${input.topic}\`, body, key: \`post:\${input.topic}:\${day}\`, submit: true,
  });
  return { draftId: draft.id, channel: input.channel, post: body, researchedAt: new Date(ctx.now()).toISOString() };
}`,
    }],
  },
  {
    name: 'daily_brief',
    cron: '30 16 * * *',
    description: 'The day in three wins, three blockers and three next moves.',
    steps: [{
      name: 'brief',
      input: {},
      code: `async (input, ctx) => {
  const day = await ctx.outreach.today();
  const n = (type) => day[type] || 0;
  const three = (xs) => [...xs, '—', '—', '—'].slice(0, 3);
  const approved = n('approval.approved') + n('approval.approved_with_notes') + n('approval.edited_and_approved');
  const waiting = n('draft.submitted') - approved - n('approval.rejected') - n('approval.changes_requested');
  return {
    wins: three([
      n('lead.created') && \`\${n('lead.created')} new leads\`,
      n('lead.status_changed') && \`\${n('lead.status_changed')} leads moved on\`,
      approved && \`\${approved} drafts approved\`,
    ].filter(Boolean)),
    blockers: three([
      waiting > 0 && \`\${waiting} drafts wait for a decision\`,
      n('approval.changes_requested') && \`\${n('approval.changes_requested')} drafts need changes\`,
      n('run.failed') && \`\${n('run.failed')} runs failed\`,
    ].filter(Boolean)),
    nextMoves: three([
      waiting > 0 && 'decide the waiting drafts in the inbox',
      n('approval.changes_requested') && 'rework the drafts sent back',
      'review tomorrow\\'s research targets',
    ].filter(Boolean)),
    counts: day,
  };
}`,
    }],
  },
];
