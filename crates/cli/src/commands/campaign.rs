//! `takedown campaign create | list | share`: an operation against one actor. Later steps
//! (sweep, capture, accounts, actions) file what they find under a campaign, and
//! `intel export --campaign` shares its intel.

use crate::outln;
use crate::output::{print_json, Exit, OutputFormat, Style};
use crate::Context;
use anyhow::bail;
use clap::Subcommand;
use takedown_app::intel::{ensure_builtin, StoreLookup};
use takedown_intel::{ids, knowledge};
use takedown_model::{Campaign, Tlp};

#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// Open a campaign against a group.
    Create {
        /// A name of your choosing, unique in this store.
        name: String,
        /// The group (name, alias or STIX id) this operation is against.
        #[arg(long, value_name = "GROUP")]
        actor: Option<String>,
        /// What the campaign produces is shared under this TLP level by default.
        #[arg(long, value_name = "LEVEL", default_value = "amber")]
        tlp: Tlp,
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
        /// The member organisation that owns it: its AMBER reaches the owner and
        /// the sharing group, and only the owner acts on its actions over the server.
        #[arg(long, value_name = "ORG")]
        org: Option<String>,
    },
    /// The campaigns in this store, by name.
    List,
    /// Add an organisation to the campaign's sharing group (TLP:AMBER reaches it),
    /// or take it out with --remove.
    Share {
        name: String,
        #[arg(long = "with", value_name = "ORG")]
        with: String,
        #[arg(long)]
        remove: bool,
    },
}

pub fn run(ctx: &Context, cmd: CampaignCommand) -> anyhow::Result<Exit> {
    let mut store = ctx.open_store()?;
    ensure_builtin(&mut store)?;
    match cmd {
        CampaignCommand::Create { name, actor, tlp, description, org } => {
            let name = name.trim().to_string();
            if name.is_empty() {
                bail!("a campaign needs a name");
            }
            let actor = match actor {
                None => None,
                Some(a) => match knowledge::profile(&StoreLookup(&store), &a)? {
                    Some(p) if p.type_ == "intrusion-set" || p.type_ == "threat-actor" => {
                        p.objects.first().map(|o| o.id.clone())
                    }
                    Some(p) => bail!("{a:?} is a {} ({}), not a group: name the group it belongs to", p.type_, p.name),
                    None => bail!(
                        "no group called {a:?} is known (see `takedown intel show NAME`, or import intel that names it)"
                    ),
                },
            };
            if let Some(org) = &org {
                if store.org(org)?.is_none() {
                    bail!("no organisation called {org:?} (add it with `takedown org add {org}`)");
                }
            }
            let campaign =
                Campaign { id: ids::random_id("grouping"), name, actor, description, tlp, created: chrono::Utc::now() };
            store.create_campaign(&campaign, &ctx.user)?;
            if let Some(org) = &org {
                store.set_campaign_owner(&campaign.name, org, &ctx.user)?;
            }
            match ctx.format {
                OutputFormat::Text => outln!(
                    "campaign {:?} created ({}), against {}, {}",
                    campaign.name,
                    campaign.id,
                    campaign.actor.as_deref().unwrap_or("no actor named"),
                    campaign.tlp
                ),
                format => print_json(format, &campaign)?,
            }
        }
        CampaignCommand::List => {
            let campaigns = store.campaigns()?;
            match ctx.format {
                OutputFormat::Text => {
                    let style = Style::stdout();
                    if campaigns.is_empty() {
                        outln!("no campaigns yet (takedown campaign create NAME --actor GROUP)");
                    }
                    for c in &campaigns {
                        outln!(
                            "{}  {}  {}  {}",
                            style.bold(&c.name),
                            c.tlp,
                            c.actor.as_deref().unwrap_or("-"),
                            style.dim(&c.id)
                        );
                    }
                }
                OutputFormat::Json => print_json(OutputFormat::Json, &campaigns)?,
                OutputFormat::Ndjson => {
                    for c in &campaigns {
                        print_json(OutputFormat::Ndjson, c)?;
                    }
                }
            }
        }
        CampaignCommand::Share { name, with, remove } => share(ctx, &store, &name, &with, remove)?,
    }
    Ok(Exit::Clean)
}

fn share(ctx: &Context, store: &takedown_store::Store, name: &str, with: &str, remove: bool) -> anyhow::Result<()> {
    let Some(campaign) = store.campaign(name)? else {
        bail!("no campaign called {name:?} (see `takedown campaign list`)");
    };
    if store.org(with)?.is_none() {
        bail!("no organisation called {with:?} (see `takedown org list`)");
    }
    let owner = store.campaign_owner(&campaign.id)?;
    if owner.as_deref() == Some(with) {
        bail!("{with} owns campaign {name:?}; its sharing group is for other organisations");
    }
    let changed = if remove {
        store.unshare_campaign(name, with, &ctx.user)?
    } else {
        store.share_campaign(name, with, &ctx.user)?
    };
    let group = store.campaign_group(&campaign.id)?;
    match ctx.format {
        OutputFormat::Text => {
            let verb = match (remove, changed) {
                (false, true) => "now shared with",
                (false, false) => "was already shared with",
                (true, true) => "no longer shared with",
                (true, false) => "was not shared with",
            };
            outln!(
                "campaign {name:?} {verb} {with}; sharing group: {}",
                if group.is_empty() { "none".to_string() } else { group.join(", ") }
            );
            if owner.is_none() {
                eprintln!("note: campaign {name:?} has no owner organisation; give one with `campaign create --org`");
            }
        }
        format => print_json(
            format,
            &serde_json::json!({ "campaign": name, "org": with, "shared": !remove, "changed": changed, "group": group, "owner": owner }),
        )?,
    }
    Ok(())
}
