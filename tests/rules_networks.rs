//! Every affiliate network and monetization script rule in `rules/` is proven by at least one URL it
//! must match and by URLs it must not match. A rule without a positive example fails the coverage
//! test, so a rule that can never match (a copied `^` separator, an unescaped `.`) cannot slip in.

use std::collections::{BTreeMap, BTreeSet};

use affcheck::rules::Ruleset;
use url::Url;

const NETWORKS_TOML: &str = include_str!("../rules/networks.toml");
const SCRIPTS_TOML: &str = include_str!("../rules/scripts.toml");

/// (URL, id of the network rule that must classify it).
const POSITIVES: &[(&str, &str)] = &[
    // Amazon Associates
    ("https://www.amazon.com/dp/B0X?tag=site-20", "amazon"),
    (
        "https://www.amazon.co.uk/dp/B0X?ref=as_li_ss_tl&tag=site-21",
        "amazon",
    ),
    (
        "https://www.amazon.de/gp/product/B0X/?TAG=site-21",
        "amazon",
    ),
    (
        "https://www.amazon.co.jp/dp/B0X?AssociateTag=site-22",
        "amazon",
    ),
    ("https://smile.amazon.com/dp/B0X?ascsubtag=post1", "amazon"),
    ("https://www.amazon.com.au/dp/B0X?tag=site-22", "amazon"),
    ("https://amzn.to/3dV1ypG", "amazon-short"),
    ("https://amzn.eu/d/abc123", "amazon-short"),
    ("https://amzn.asia/d/xyz", "amazon-short"),
    // CJ
    ("https://www.anrdoezrs.net/click-7251228-13845670", "cj"),
    ("https://www.dpbolvw.net/click-4147908-5656123", "cj"),
    (
        "https://www.jdoqocy.com/click-4147908-10736186?url=https%3A%2F%2Fshop.example%2F",
        "cj",
    ),
    ("https://www.kqzyfj.com/click-4147908-10654293", "cj"),
    ("http://www.tkqlhce.com/click-4147908-10425843", "cj"),
    ("https://www.ftjcfx.com/click-9083409-1234567", "cj"),
    ("https://www.tqlkg.com/click-1234-5678", "cj"),
    (
        "https://www.anrdoezrs.net/links/7251228/type/dlg/sid/x/https://www.malwarebytes.com/",
        "cj",
    ),
    ("https://www.emjcd.com/anything/at/all", "cj-redirect"),
    (
        "http://www.qksrv.net/click-5758986-10273919?url=https://www.audible.com/",
        "cj-redirect",
    ),
    ("https://cj.dotomi.com/links-t/123", "cj-redirect"),
    // Rakuten
    (
        "https://click.linksynergy.com/deeplink?id=kXQk6*ivFEQ&mid=44583&murl=https%3A%2F%2Fwww.newegg.com%2F",
        "rakuten",
    ),
    (
        "http://click.linksynergy.com/fs-bin/click?id=GU*lP9Glm/0&offerid=185580.10000001&type=4",
        "rakuten",
    ),
    (
        "http://linksynergy.walmart.com/fs-bin/click?id=dytoBTXu0Pk&offerid=223073.7200&type=14",
        "rakuten",
    ),
    (
        "https://hb.afl.rakuten.co.jp/hgc/5000cbfd.5f52567b.5000cbff.924460a4/?pc=https%3A%2F%2Fsearch.rakuten.co.jp%2F",
        "rakuten-japan",
    ),
    // Awin
    (
        "https://www.awin1.com/cread.php?awinmid=6776&awinaffid=2793818&ued=https%3A%2F%2Fwww.booking.com%2F",
        "awin",
    ),
    ("https://www.awin1.com/awclick.php?mid=1234&id=9999", "awin"),
    (
        "https://www.awin1.com/cread.php?s=574669&v=1234&q=281365&r=9999",
        "awin",
    ),
    (
        "https://www.awin1.com/pclick.php?p=3455893129&a=45628&m=6767",
        "awin",
    ),
    (
        "https://www.zenaps.com/rclick.php?mi=1&pr=2&prt=3",
        "awin-zenaps",
    ),
    ("https://tidd.ly/4s8kRkI", "awin-short"),
    (
        "https://ad.zanox.com/ppc/?43703211C1086678239&ulp=[[https://shop.example/]]",
        "zanox",
    ),
    // ShareASale
    (
        "https://www.shareasale.com/r.cfm?b=617326&u=1&m=2&urllink=&afftrack=",
        "shareasale",
    ),
    (
        "https://www.shareasale.com/m-pr.cfm?merchantID=53701&userID=880419&productID=546411875",
        "shareasale",
    ),
    (
        "https://shareasale.com/u.cfm?d=1071919&m=145704&u=929667&afftrack=",
        "shareasale",
    ),
    (
        "https://shareasale-analytics.com/r.cfm?b=1&u=2&m=3&afftrack=x",
        "shareasale",
    ),
    (
        "https://www.shareasale.com/r.cfm?b=2183704&u=3507867&m=132199&urllink=https%3A%2F%2Fshop.example%2Fk8s",
        "shareasale",
    ),
    ("https://shrsl.com/2qj12-1hzb-kp67", "shareasale-short"),
    // Impact
    (
        "https://lightailing.sjv.io/c/5597632/1638364/17190",
        "impact",
    ),
    (
        "https://smokecartel.pxf.io/c/5929369/2120665/26924",
        "impact",
    ),
    (
        "https://bestbuy.7tiv.net/c/2003851/633495/10014?u=https%3A%2F%2Fwww.bestbuy.com%2Fsite%2Fx",
        "impact",
    ),
    (
        "https://ticketmaster.evyy.net/c/252938/264167/4272?u=x",
        "impact",
    ),
    ("https://citypass.7eer.net/c/7236213/305537/3331", "impact"),
    ("http://Redbox.ojrq.net/c/40732/24914/936", "impact"),
    ("https://brand.8nn1.net/c/1/2/3", "impact"),
    (
        "https://goto.walmart.com/c/3590891/1398372/16662?u=https%3A%2F%2Fwww.walmart.com%2Fip%2F1",
        "impact-vanity",
    ),
    (
        "https://goto.target.com/c/123456/123456/2092?u=https%3A%2F%2Fwww.target.com%2Fp%2Fx",
        "impact-vanity",
    ),
    ("https://meetava.sjv.io/mOWbJZ", "impact-short"),
    ("https://shopify.pxf.io/webexp", "impact-short"),
    // Partnerize
    (
        "https://prf.hn/click/camref:1101lpefz/destination:https%3A%2F%2Fgocity.com%2Fboston",
        "partnerize",
    ),
    (
        "https://wise.prf.hn/click/camref:1011l123/pubref:x",
        "partnerize",
    ),
    // Skimlinks / Sovrn
    (
        "https://go.skimresources.com?id=100269X1558466&xs=1&url=https%3A%2F%2Fshop.example%2F",
        "skimlinks",
    ),
    (
        "http://go.redirectingat.com?id=35687X941090&xs=1&url=http%3A%2F%2Fwww.farfetch.com%2F",
        "skimlinks",
    ),
    (
        "https://redirect.viglink.com?key=10a309a920033f8b2c751717059df529&u=https%3A%2F%2Fshop.example%2F",
        "viglink",
    ),
    (
        "http://api.viglink.com/api/click?format=go&key=9b4e&loc=http%3A%2F%2Fblog.example&out=http%3A%2F%2Fstore.example%2F",
        "viglink-api",
    ),
    // eBay
    (
        "https://rover.ebay.com/rover/1/711-53200-19255-0/1?campid=5339123882&mpre=https://www.ebay.com/itm/1",
        "ebay-rover",
    ),
    (
        "https://www.ebay.com/itm/1?mkevt=1&mkcid=1&mkrid=711-53200-19255-0&campid=5339155912&toolid=10001",
        "ebay",
    ),
    (
        "https://www.ebay.co.uk/itm/90?mkevt=1&mkcid=1&campid=5338999485",
        "ebay",
    ),
    (
        "https://www.ebay.es/itm/123456789?mkevt=1&campid=5338722076",
        "ebay",
    ),
    // ClickBank, Pepperjam, AliExpress, Booking.com
    (
        "https://1a20ao1bngts8ke9xou7rfv1xw.hop.clickbank.net",
        "clickbank",
    ),
    (
        "https://hop.clickbank.net/?affiliate=nick&vendor=vend",
        "clickbank",
    ),
    ("https://www.pntra.com/t/8-12462-377154-213588", "pepperjam"),
    (
        "http://www.gopjn.com/t/1-1539-47154-1539?url=http%3A%2F%2Fshop.example%2F",
        "pepperjam",
    ),
    ("https://www.pjtra.com/t/abc", "pepperjam"),
    ("https://www.pjatr.com/t/abc", "pepperjam"),
    ("https://www.pntrs.com/t/abc", "pepperjam"),
    ("https://www.pntrac.com/t/abc", "pepperjam"),
    (
        "https://s.click.aliexpress.com/e/_DmJmxVD",
        "aliexpress-short",
    ),
    (
        "https://s.click.aliexpress.com/deep_link.htm?aff_short_key=abc&dl_target_url=https%3A%2F%2Fwww.aliexpress.com%2Fitem%2F1.html",
        "aliexpress-short",
    ),
    (
        "https://pl.aliexpress.com/item/1005007987815579.html?aff_fcid=1e34&tt=CPS_NORMAL&aff_trace_key=1e34",
        "aliexpress",
    ),
    (
        "https://www.aliexpress.us/item/3256803997020234.html?aff_fcid=b964",
        "aliexpress",
    ),
    ("https://www.booking.com/index.html?aid=7947205", "booking"),
    (
        "https://www.booking.com/hotel/x.html?aid=1858279&label=blog",
        "booking",
    ),
    // Other networks
    (
        "https://track.flexlinkspro.com/g.ashx?foid=24.242107.6666419&trid=1524557.242107&foc=16&fot=9999&fos=6",
        "flexoffers",
    ),
    (
        "https://track.flexlinkspro.com/a.ashx?foid=1.42748&foc=17&URL=https%3A%2F%2Fsodastream.com%2F",
        "flexoffers",
    ),
    (
        "https://track.flexlinks.com/g.ashx?foid=1.2&trid=3",
        "flexoffers",
    ),
    (
        "https://ad.admitad.com/g/03mwou5x7x21d78ab6e7cf8e2e3afe/?ulp=https%3A%2F%2Fwww.westelm.ae%2F",
        "admitad",
    ),
    (
        "http://ad.admitad.com/goto/8473ea334743631d2075c3fe9ec496/",
        "admitad",
    ),
    (
        "https://clk.tradedoubler.com/click?p=355835&a=3495104&g=0&url=https%3A%2F%2Folka.se%2F",
        "tradedoubler",
    ),
    (
        "https://clkuk.tradedoubler.com/click?p(263037)a(2913754)g(22696148)",
        "tradedoubler",
    ),
    (
        "https://track.webgains.com/click.html?wgcampaignid=190819&wgprogramid=2401&wgtarget=https://shop.example/",
        "webgains",
    ),
    (
        "http://www.avantlink.com/click.php?tt=ale&ti=3481&pri=0&pw=41369&mi=10060&url=https%3A%2F%2Fshop.example%2F",
        "avantlink",
    ),
    (
        "https://www.avantlink.com/click.php?tool_type=cl&merchant_id=c8f2&website_id=c81b&url=https%3A%2F%2Fwww.goldencoil.com",
        "avantlink",
    ),
    (
        "https://t.cfjump.com/68150/t/90704?Url=https%3a%2f%2fwww.goldfieldandbanks.com%2f",
        "commission-factory",
    ),
    ("https://t.cfjump.com/33917/b/26467", "commission-factory"),
    (
        "https://tc.tradetracker.net/?c=21449&m=12&a=123456&r=&u=https%3A%2F%2Fwww.pccomponentes.com%2Fx",
        "tradetracker",
    ),
    (
        "https://track.adtraction.com/t/t?a=1497931818&as=1889896122&t=2&tk=1&url=https%3A%2F%2Fshop.example%2F",
        "adtraction",
    ),
    (
        "https://track.effiliation.com/servlet/effi.redir?id_compteur=23298697&url=https%3A%2F%2Ffr.trip.com%2F",
        "effiliation",
    ),
    (
        "https://px.a8.net/svt/ejp?a8mat=45IED7+DQR8HE+4J34+BW0YB&a8ejpredirect=https%3A%2F%2Fshop.example%2F",
        "a8",
    ),
    (
        "https://ck.jp.ap.valuecommerce.com/servlet/referral?sid=3764408&pid=892559858&vc_url=https%3A%2F%2Fwww.jalan.net%2F",
        "valuecommerce",
    ),
    (
        "https://partner.bol.com/click/click?p=2&t=url&s=49589&f=TXL&url=https%3A%2F%2Fwww.bol.com%2Fnl%2Fp%2Fx%2F1%2F",
        "bol",
    ),
    (
        "https://www.digistore24.com/redir/386253/Ayman_Hathoot/",
        "digistore24",
    ),
    (
        "https://apps.apple.com/us/app/thor/id1120999687?mt=12&at=1000lHGx",
        "apple",
    ),
    (
        "https://itunes.apple.com/app/find-movies/id1107657424?mt=8&at=1000lmKH",
        "apple",
    ),
    (
        "https://music.apple.com/us/album/_/1592051666?app=music&at=1000lHKX",
        "apple",
    ),
    (
        "https://geo.music.apple.com/us/album/_/1762195645?app=music&at=1000lHKX",
        "apple",
    ),
    // Creator platforms and link managers
    ("https://rstyle.me/+3SvPh92KkqE3Y1iVuHAcEQ", "rewardstyle"),
    ("http://rstyle.me/n/c92f6m4xn", "rewardstyle"),
    ("https://liketk.it/4UMpx", "ltk"),
    ("https://shopstyle.it/l/cwE20", "shopstyle"),
    ("https://go.shopmy.us/p-83948920", "shopmy"),
    (
        "https://go.shopmy.us/apx/l9N1lH?url=https%3A%2F%2Fshop.example%2F",
        "shopmy",
    ),
    ("https://geni.us/TheFullFeeAgent", "geniuslink"),
    (
        "https://buy.geni.us/Proxy.ashx?TSID=368250&GR_URL=https%3A%2F%2Fwww.amazon.com%2Fdp%2FB01K4C",
        "geniuslink",
    ),
    // Regional networks
    (
        "https://ds1.nl/c/?si=7805&li=1362777&wi=385520&ws=&dl=portugal%2Flissabon",
        "daisycon",
    ),
    (
        "https://www.financeads.net/tc.php?t=70334C14013149B",
        "financeads",
    ),
    (
        "https://action.metaffiliation.com/trk.php?mclic=P5120A956B28D2111&redir=https%3A%2F%2Fall.accor.com%2F",
        "kwanko",
    ),
    (
        "https://www.partner-ads.com/dk/klikbanner.php?partnerid=28187&bannerid=43264&htmlurl=https://www.saxo.com/",
        "partner-ads",
    ),
    (
        "http://partners.webmasterplan.com/click.asp?ref=756180&site=12802&type=text&tnb=26&diurl=http%3A%2F%2Fshop.example%2F",
        "affilinet",
    ),
    (
        "https://www.adcell.de/promotion/click/promoId/99905/slotId/74898?param0=https%3A%2F%2Fwww.shop.example%2F",
        "adcell",
    ),
    (
        "https://www.linkconnector.com/ta.php?lc=007949048603004532&atid=WondershareWeb",
        "linkconnector",
    ),
    (
        "https://linksredirect.com/?cid=25155&source=linkkit&url=https%3A%2F%2Fwww.myntra.com%2F",
        "cuelinks",
    ),
    (
        "https://linksredirect.com/?pub_id=19596CL17626&source=linkkit&url=https://shop.example/",
        "cuelinks",
    ),
    (
        "https://invol.co/aff_m?offer_id=101166&aff_id=189674&url=https%3A%2F%2Fwww.lazada.com.my%2F",
        "involve-asia",
    ),
    ("https://invol.co/cljr99l", "involve-asia"),
    (
        "https://af.moshimo.com/af/c/click?a_id=5509186&p_id=54&pc_id=54&pl_id=616&url=https%3A%2F%2Fshop.example%2F",
        "moshimo",
    ),
    (
        "https://tp.media/r?marker=509395&trs=288881&p=4114&u=https%3A%2F%2Faviasales.com&campaign_id=100",
        "travelpayouts",
    ),
    (
        "https://c137.travelpayouts.com/click?shmarker=745749&promo_id=4110&custom_url=https%3A%2F%2Fwww.airalo.com%2F",
        "travelpayouts-click",
    ),
    // Marketplaces' own programs
    (
        "https://dl.flipkart.com/dl/apple-iphone-6s/p/itmebysga78az3qh?affid=affiliate357",
        "flipkart",
    ),
    (
        "https://www.flipkart.com/mobiles/pr?sid=tyy&affid=buyhatkegm&affExtParam1=mipage",
        "flipkart",
    ),
    ("https://shope.ee/6fLZS9Tf8B", "shopee"),
    ("https://link.coupang.com/a/b6k87x", "coupang"),
    ("https://s.click.taobao.com/Gcs9vuu", "taobao"),
    (
        "https://s.click.taobao.com/t?e=m%3D2%26s%3DSw3bmfcaPBEc",
        "taobao",
    ),
    (
        "https://union-click.jd.com/jdc?e=16282&p=AyIGZRtSFgQUB1ISUhIyFgVWHVgSBhUBUBhr",
        "jd-union",
    ),
    ("https://u.jd.com/ztk", "jd-union-short"),
    ("https://mercadolivre.com/sec/2TCy2TB", "mercadolivre"),
    ("https://meli.la/1AbCd2", "mercadolivre-short"),
    // Travel programs
    (
        "https://www.agoda.com/partners/partnersearch.aspx?pcs=1&cid=1812163&hl=th&hid=2681524",
        "agoda",
    ),
    (
        "https://www.agoda.com/partners/partnersearch.aspx?site_id=1917614&CkInDay=27",
        "agoda",
    ),
    (
        "https://kr.trip.com/?Allianceid=8803698&SID=320679024&trip_sub1=&trip_sub3=D18387924",
        "trip-com",
    ),
    (
        "https://www.ctrip.com/?AllianceID=1226872&sid=2892491&ouid=&app=0101F00",
        "trip-com",
    ),
    (
        "https://www.getyourguide.com/?partner_id=0IQTGX8&utm_medium=online_publisher",
        "getyourguide",
    ),
    (
        "https://www.viator.com/?pid=P00192029&mcid=42383&medium=link&medium_version=selector",
        "viator",
    ),
    ("https://www.klook.com/?aid=128344", "klook"),
    // Digital-product marketplaces
    ("https://go.hotmart.com/R101103337F?ap=50eb", "hotmart"),
    ("https://go.hotmart.com/F103807521Y", "hotmart"),
    ("https://warriorplus.com/o2/a/khh712j/0", "warriorplus"),
    ("https://www.jvzoo.com/c/86517/415009", "jvzoo"),
    ("https://jvz1.com/c/3547097/442055/", "jvzoo"),
    (
        "https://go.fiverr.com/visit/?bta=1128446&brand=fiverrmarketplace&landingPage=https%253A%252F%252Fwww.fiverr.com%252F",
        "fiverr",
    ),
    // Referral programs
    (
        "https://go.nordvpn.net/aff_c?offer_id=15&aff_id=152674&url_id=902",
        "nordvpn",
    ),
    ("https://m.do.co/c/9fbf85c22695", "digitalocean"),
    (
        "https://www.digitalocean.com/?refcode=03e3e84b8f22",
        "digitalocean-refcode",
    ),
    ("https://www.bluehost.com/track/awothemes/", "bluehost"),
    (
        "https://www.bluehost.com/track/wp/dotcomsans1?page=/wordpress",
        "bluehost",
    ),
    (
        "https://www.hostinger.com/?REFERRALCODE=MIROTALK",
        "hostinger",
    ),
    ("https://kinsta.com/?kaid=OFDHAJIXUDIV", "kinsta"),
    ("https://www.vultr.com/?ref=7755704", "vultr"),
    (
        "https://www.linode.com/?r=5fd2b713d711746bb5451111df0f2b6d863e9f63",
        "linode",
    ),
    ("https://hetzner.cloud/?ref=y8pQKS2nNy7i", "hetzner"),
    ("https://coinbase.com/join/ME3KDML?src=referral", "coinbase"),
    ("https://www.coinbase.com/join/antic", "coinbase"),
    (
        "https://accounts.binance.com/register?ref=385030280",
        "binance",
    ),
    (
        "https://www.binance.com/en/register?ref=12852887",
        "binance",
    ),
    ("https://wise.com/invite/ihpc/vilfinm", "wise"),
    ("https://transferwise.com/invite/u/samuels1719", "wise"),
    // Creator commerce
    ("https://howl.me/clHcdRoIePi", "howl"),
    (
        "https://howl.me/c/12345?url=https%3A%2F%2Fshop.example%2Fitem",
        "howl",
    ),
    (
        "https://shop-links.co/link/?url=https%3A%2F%2Fshop.example%2F",
        "narrativ",
    ),
    (
        "https://n8n.partnerlinks.io/om1efg2qgvwi",
        "partnerstack-short",
    ),
    // Affiliate software on the merchant's own domain
    (
        "https://www.manning.com/books/deep-learning-with-python?a_aid=keras&a_bid=76564dff",
        "post-affiliate-pro",
    ),
    (
        "https://ehub.cz/system/scripts/click.php?a_aid=6926a50f&a_bid=f5e0f8fb",
        "post-affiliate-pro",
    ),
    (
        "https://www.pluginboutique.com/product/Synths/x?a_aid=5f1d2c",
        "post-affiliate-pro",
    ),
    (
        "http://www.pixelemu.com/affiliate/idevaffiliate.php?id=100&url=http://www.pixelemu.com/themes/x",
        "idevaffiliate",
    ),
    (
        "https://www.datacamp.com/courses/introduction-to-the-tidyverse?tap_a=5644-dce66f&tap_s=213362-c9f98c",
        "tapfiliate",
    ),
    (
        "https://virtualshield.com/?rfsn=4860654.25c305",
        "refersion",
    ),
    ("https://customgpt.ai/?fpr=sangkwon-3", "firstpromoter"),
    (
        "https://app.example.io/signup?fp_ref=maria",
        "firstpromoter",
    ),
    (
        "https://n8n.io/?ps_partner_key=NzkwZTY1NWM2ODEz&ps_xid=P3k1LdZpw3xdyQ&gsxid=P3k1LdZpw3xdyQ&gspk=NzkwZTY1NWM2ODEz",
        "partnerstack",
    ),
    (
        "https://shop.tangem.com/?afmc=1i&utm_campaign=1i&utm_source=leaddyno&utm_medium=affiliate",
        "leaddyno",
    ),
    (
        "https://black-lotus-shilajit-shop.myshopify.com?sca_ref=5188496.BbHTin3axE",
        "uppromote",
    ),
    (
        "https://www.coursera.org/learn/principles-of-ux-ui-design?irclickid=UiHQrKW8XxyKTNBzH1yZnU6OUkCVHt29d30Qxw0&irgwc=1",
        "impact-clickid",
    ),
    (
        "https://tracking.vcommission.example/aff_c?offer_id=505&aff_id=43090",
        "tune",
    ),
    ("https://www.dmit.io/aff.php?aff=18446&pid=169", "whmcs"),
    (
        "http://www.squidproxies.com/billing/aff.php?aff=249",
        "whmcs",
    ),
];

/// URLs that no network rule may classify.
const NEGATIVES: &[&str] = &[
    // Amazon without an affiliate tag
    "https://www.amazon.com/dp/B0X",
    "https://www.amazon.com/dp/B0X?ref=nav",
    "https://www.amazon.com/dp/B0X/ref=as_li_ss_tl",
    "https://www.amazon.com/dp/B0X?tag=",
    "https://www.amazon.com/dp/B0X?tag=%20",
    "https://amzn.to/",
    // generic parameters on arbitrary hosts
    "https://blog.example.net/search?tag=knees",
    "https://www.rei.example/poles?ref=nav",
    "https://shop.example.com/?aid=123",
    "https://shop.example.com/item?campid=5338722076",
    "https://shop.example.com/?at=1000lHKX",
    "https://shop.example.com/?awinaffid=1&awinmid=2",
    "https://shop.example.com/?aff_fcid=abc&aff_trace_key=abc",
    "https://shop.example.com/?id=35687X941090&url=https://x.example/",
    "https://shop.example.com/c/1/2/3",
    "https://shop.example.com/click-123-456",
    "https://shop.example.com/t/abc",
    "https://shop.example.com/r.cfm?b=1&u=2&m=3",
    "https://shop.example.com/redir/1/2/",
    "https://en.wikipedia.org/wiki/Amazon",
    // merchant pages without affiliate parameters
    "https://www.booking.com/hotel/x.html",
    "https://www.booking.com/hotel/x.html?aid=",
    "https://www.ebay.com/itm/1",
    "https://www.ebay.com/itm/1?mkevt=1&mkcid=1",
    "https://www.aliexpress.com/item/1005001234567890.html",
    "https://apps.apple.com/us/app/thor/id1120999687",
    "https://music.apple.com/us/album/x/1",
    "https://www.apple.com/shop/buy-iphone?at=1000lHKX",
    "https://www.walmart.com/ip/123",
    "https://www.target.com/p/x/-/A-1",
    "https://www.bol.com/nl/p/x/1/",
    "https://www.digistore24.com/redir/123456",
    "https://www.digistore24.com/",
    // lookalike hosts
    "https://notsjv.io/c/1/2/3",
    "https://sjv.io.evil.example/c/1/2/3",
    "https://amazon.com.evil.example/?tag=x",
    "https://amazon.example/dp/B0X?tag=x",
    "https://myamazon.com/dp/B0X?tag=x",
    "https://goto.com/c/1/2/3",
    "https://gotowalmart.com/c/1/2/3",
    "https://evil-prf.hn/click/camref:1",
    "https://ebay.example/itm/1?campid=5",
    "https://booking.com.evil.example/?aid=1",
    "https://myshareasale.com/r.cfm?b=1&u=2&m=3",
    "https://urlgeni.us/amazon/added",
    "https://notrstyle.me/+abc",
    // network hosts, but not a click URL (pixels, banners, dashboards, home pages)
    "https://goto.walmart.com/",
    "https://goto.walmart.com/c/abc",
    "https://imp.pxf.io/i/5597632/1896607/21553",
    "https://a.sjv.io/c/1/2",
    "https://www.anrdoezrs.net/",
    "https://www.ftjcfx.com/image-4147908-10736186",
    "https://www.awin1.com/cshow.php?s=574669&v=6767&q=281&r=45628",
    "https://www.awin1.com/cread.php",
    "https://www.awin.com/gb",
    "https://tidd.ly/",
    "https://ad.zanox.com/ppv/?15314296C1971476403",
    "https://www.shareasale.com/info/",
    "https://static.shareasale.com/image/57542/generic-300x250.jpg",
    "https://shrsl.com/",
    "https://prf.hn/",
    "https://partnerize.com/",
    "https://go.skimresources.com/",
    "https://s.skimresources.com/js/1X2.skimlinks.js",
    "https://redirect.viglink.com/",
    "https://api.viglink.com/api/other?key=x",
    "https://www.clickbank.com/",
    "https://www.pntra.com/b/TUJGRktNS0JGTExNS0dCRktGSUxK",
    "https://www.gopjn.com/",
    "https://click.linksynergy.com/deeplink?murl=https%3A%2F%2Fshop.example%2F",
    "https://track.linksynergy.com/ep?mid=1",
    "https://hb.afl.rakuten.co.jp/",
    "https://track.flexlinks.com/tracker.aspx?AID=1&AMT=2",
    "https://track.flexlinkspro.com/da.ashx?advertiserid=1",
    "https://ad.admitad.com/b/nef9repuji642af9040bfbdf0436a5/",
    "https://www.tradedoubler.com/en/",
    "https://track.webgains.com/click.html",
    "https://www.avantlink.com/click.php?tt=cl",
    "https://t.cfjump.com/tag/12345",
    "https://tc.tradetracker.net/?c=1&m=12",
    "https://track.adtraction.com/t/t?as=1037548922&t=1&tk=0&trt=2",
    "https://track.effiliation.com/",
    "https://www17.a8.net/0.gif?a8mat=2ZTT9A+D2Y8MQ+1W34+C8VWY",
    "https://px.a8.net/svt/ejp",
    "https://ad.jp.ap.valuecommerce.com/servlet/gifbanner?sid=1&pid=2",
    "https://partner.bol.com/click/click?p=1",
    "https://rstyle.me/",
    "https://liketk.it/",
    "https://www.shopstyle.it/",
    "https://go.shopmy.us/",
    "https://geni.us/",
    "https://rover.ebay.com/",
    // generic parameters on arbitrary hosts stay non-affiliate even with the any-host rules
    "https://shop.example.com/?via=maria",
    "https://shop.example.com/?ref=30483",
    "https://shop.example.com/ref/30483",
    "https://shop.example.com/?aff=12&utm_source=blog&utm_medium=affiliate",
    "https://shop.example.com/?id=100&url=https://x.example/",
    "https://shop.example.com/?utm_source=refersion",
    "https://shop.example.com/?a_bid=76564dff",
    "https://shop.example.com/?irgwc=1",
    "https://shop.example.com/aff_c?offer_id=15",
    "https://shop.example.com/aff_c?aff_id=15",
    "https://shop.example.com/click?offer_id=15&aff_id=2",
    "https://shop.example.com/?fpr=",
    "https://shop.example.com/?marker=1&trs=2",
    "https://shop.example.com/?affid=1",
    "https://shop.example.com/?kaid=1&refcode=2&REFERRALCODE=3",
    "https://shop.example.com/?allianceid=1&partner_id=2",
    "https://shop.example.com/c/1/2",
    "https://shop.example.com/join/abc",
    "https://shop.example.com/invite/u/abc",
    "https://shop.example.com/track/abc/",
    "https://shop.example.com/sec/abc",
    "https://shop.example.com/idevaffiliate.php",
    "https://shop.example.com/aff.php",
    "https://shop.example.com/raff.php?aff=1",
    // new networks' hosts, but not an affiliate link
    "https://ds1.nl/",
    "https://ds1.nl/c/",
    "https://www.financeads.net/",
    "https://www.financeads.net/tc.php",
    "https://action.metaffiliation.com/",
    "https://www.partner-ads.com/dk/",
    "https://www.partner-ads.com/dk/klikbanner.php",
    "https://partners.webmasterplan.com/view.asp?ref=1&site=2",
    "https://www.adcell.de/",
    "https://www.linkconnector.com/",
    "https://linksredirect.com/?url=https://shop.example/",
    "https://invol.co/",
    "https://invol.co/cl",
    "https://af.moshimo.com/af/c/click",
    "https://tp.media/",
    "https://tp.media/r?u=https://aviasales.com",
    "https://www.travelpayouts.com/",
    "https://www.flipkart.com/apple-iphone-6s/p/itmebysga78az3qh?pid=MOBDMEQVZJEMWTDG",
    "https://shope.ee/",
    "https://shopee.co.id/product/1/2",
    "https://www.coupang.com/vp/products/1",
    "https://link.coupang.com/",
    "https://s.click.taobao.com/",
    "https://item.taobao.com/item.htm?id=1",
    "https://item.jd.com/100012043978.html",
    "https://union-click.jd.com/",
    "https://u.jd.com/",
    "https://www.mercadolivre.com.br/p/MLB123",
    "https://mercadolivre.com/",
    "https://meli.la/",
    "https://www.agoda.com/hotel-x/hotel/bangkok-th.html?cid=-1",
    "https://www.agoda.com/partners/partnersearch.aspx?hid=1",
    "https://www.trip.com/hotels/",
    "https://www.getyourguide.com/berlin-l17/",
    "https://www.viator.com/tours/x?pid=P00192029",
    "https://www.viator.com/?mcid=42383",
    "https://www.klook.com/?aid=",
    "https://www.klook.com/activity/1/",
    "https://go.hotmart.com/",
    "https://hotmart.com/en/marketplace",
    "https://warriorplus.com/",
    "https://www.jvzoo.com/",
    "https://www.jvzoo.com/c/",
    "https://go.fiverr.com/visit/",
    "https://www.fiverr.com/categories",
    "https://go.nordvpn.net/aff_c",
    "https://nordvpn.com/pricing/",
    "https://m.do.co/",
    "https://www.digitalocean.com/pricing",
    "https://www.bluehost.com/",
    "https://www.bluehost.com/track/",
    "https://www.hostinger.com/tutorials",
    "https://kinsta.com/blog/",
    "https://www.vultr.com/pricing/",
    "https://www.linode.com/docs/",
    "https://hetzner.cloud/",
    "https://www.coinbase.com/join",
    "https://www.coinbase.com/price/bitcoin",
    "https://www.binance.com/en/register",
    "https://www.binance.com/en/trade/BTC_USDT?ref=nav",
    "https://wise.com/invite/",
    "https://wise.com/gb/send-money/",
    "https://howl.me/",
    "https://shop-links.co/",
    "https://partnerlinks.io/",
    "https://www.partnerstack.com/",
    "https://www.manning.com/books/deep-learning-with-python",
    "https://www.datacamp.com/courses/introduction-to-the-tidyverse",
    // eBay's app share links use ebay.us too, so the host alone is not attributed
    "https://ebay.us/m/edWc1H",
];

/// (script `src`, id of the script rule that must recognise it).
const SCRIPT_SRC_POSITIVES: &[(&str, &str)] = &[
    (
        "https://s.skimresources.com/js/305412X1793617.skimlinks.js",
        "skimlinks",
    ),
    (
        "//s.skimresources.com/js/2325X576383.skimlinks.js",
        "skimlinks",
    ),
    ("https://cdn.viglink.com/api/vglnk.js", "viglink"),
    ("//cdn.viglink.com/api/vglnk.js", "viglink"),
    (
        "https://z-na.amazon-adsystem.com/widgets/onejs?MarketPlace=US&adInstanceId=4999401e",
        "amazon-onelink",
    ),
    (
        "https://z-eu.amazon-adsystem.com/widgets/onejs?MarketPlace=DE",
        "amazon-onelink",
    ),
    ("//cdn.geni.us/snippet.min.js", "geniuslink"),
    ("//cdn.georiot.com/snippet.js", "geniuslink"),
    (
        "https://www.dwin2.com/pub.3182162.min.js",
        "awin-convert-a-link",
    ),
];

/// (inline script text, id of the script rule that must recognise it).
const SCRIPT_INLINE_POSITIVES: &[(&str, &str)] = &[
    ("var vglnk = {key: 'x'};", "viglink"),
    (
        "window.vglnk={key:'abc'};(function(d,t){}(document,'script'));",
        "viglink",
    ),
    (
        "var s = d.createElement('script'); s.src = '//cdn.viglink.com/api/vglnk.js';",
        "viglink",
    ),
    (
        "script1.src = '//z-na.amazon-adsystem.com/widgets/onejs?MarketPlace=US';",
        "amazon-onelink",
    ),
    (
        "amzn_assoc_ad_type = \"link_enhancement_widget\"; amzn_assoc_tracking_id = \"site-20\";",
        "amazon-assoc-widget",
    ),
    (
        "jQuery(document).ready(function($) { Georiot.amazon.convertToGeoRiotLinks(8885, false); });",
        "geniuslink",
    ),
    (
        "Georiot.amazon.addOnClickRedirect(40793, true);",
        "geniuslink",
    ),
    (
        "var tsid = 123392; Genius.amazon.convertLinks(tsid, true, \"https://buy.geni.us\");",
        "geniuslink",
    ),
];

/// Script addresses that are not monetization scripts.
const SCRIPT_SRC_NEGATIVES: &[&str] = &[
    "https://securepubads.g.doubleclick.net/tag/js/gpt.js",
    "https://www.googletagmanager.com/gtag/js?id=G-XXXX",
    "https://www.google-analytics.com/analytics.js",
    "https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js",
    "https://c.amazon-adsystem.com/aax2/apstag.js",
    "https://z-na.amazon-adsystem.com/widgets/q?ServiceVersion=20070822",
    "https://www.dwin1.com/12345.js",
    "https://www.dwin2.com/other.js",
    "https://cdn.viglink.com/other.js",
    "https://s.skimresources.com/other.js",
    "https://notskimresources.com/js/1X2.skimlinks.js",
    "https://cdn.geni.us/other.js",
    "https://t.cfjump.com/tag/12345",
    "https://cdn.jsdelivr.net/npm/jquery@3/dist/jquery.min.js",
];

/// Inline scripts that are not monetization scripts.
const SCRIPT_INLINE_NEGATIVES: &[&str] = &[
    "window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);}",
    "googletag.cmd.push(function() { googletag.display('div-1'); });",
    "(adsbygoogle = window.adsbygoogle || []).push({});",
    "var tag = 'knees'; var ref = 'nav';",
    "console.log('vglnk');",
];

fn rules() -> Ruleset {
    Ruleset::defaults().expect("embedded rules must compile")
}

fn parse(url: &str) -> Url {
    let absolute = if url.starts_with("//") {
        format!("https:{url}")
    } else {
        url.to_string()
    };
    Url::parse(&absolute).unwrap_or_else(|e| panic!("test URL {url} does not parse: {e}"))
}

/// The `[[network]]` (or `[[script]]`) entries of a rules file.
fn entries(text: &str, section: &str) -> Vec<toml::Table> {
    let file: toml::Table = toml::from_str(text).expect("rules file is valid TOML");
    file.get(section)
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .map(|e| e.as_table().expect("entry is a table").clone())
                .collect()
        })
        .unwrap_or_default()
}

fn string_field(entry: &toml::Table, key: &str) -> Option<String> {
    entry.get(key).and_then(|v| v.as_str()).map(str::to_string)
}

fn network_ids() -> BTreeSet<String> {
    entries(NETWORKS_TOML, "network")
        .iter()
        .map(|e| string_field(e, "id").expect("network has an id"))
        .collect()
}

/// Programs are counted by network name: a program's click links and short links are separate
/// rules with one name.
#[test]
fn networks_file_has_at_least_80_programs() {
    let names: BTreeSet<String> = entries(NETWORKS_TOML, "network")
        .iter()
        .map(|e| string_field(e, "name").expect("network has a name"))
        .collect();
    assert!(names.len() >= 80, "only {} programs", names.len());
    assert_eq!(rules().program_count(), names.len());
}

#[test]
fn every_entry_has_a_unique_id_a_source_and_named_hosts() {
    for (text, section, host_key) in [
        (NETWORKS_TOML, "network", "hosts"),
        (SCRIPTS_TOML, "script", "src_hosts"),
    ] {
        let mut seen = BTreeSet::new();
        for entry in entries(text, section) {
            let id = string_field(&entry, "id").expect("entry has an id");
            assert!(seen.insert(id.clone()), "{section} id `{id}` is repeated");
            let source = string_field(&entry, "source").unwrap_or_default();
            assert!(
                source.trim().len() >= 10,
                "{section} `{id}` needs a source note"
            );
            if let Some(hosts) = entry.get(host_key).and_then(|v| v.as_array()) {
                for host in hosts {
                    let host = host.as_str().unwrap_or_default();
                    assert!(
                        host.contains('.') && !host.contains('/') && host != "*",
                        "{section} `{id}`: host `{host}` must name a domain"
                    );
                }
            }
        }
    }
    for entry in entries(NETWORKS_TOML, "network") {
        let id = string_field(&entry, "id").unwrap();
        let hosts = entry.get("hosts").and_then(|v| v.as_array());
        let any_host = entry.get("any_host").and_then(|v| v.as_bool()) == Some(true);
        if any_host {
            assert!(
                hosts.is_none_or(|h| h.is_empty()),
                "network `{id}` has any_host and must not name hosts"
            );
        } else {
            assert!(
                hosts.is_some_and(|h| !h.is_empty()),
                "network `{id}` must name its hosts (or set any_host = true)"
            );
        }
    }
}

#[test]
fn every_network_rule_has_a_positive_example() {
    let tested: BTreeSet<String> = POSITIVES.iter().map(|(_, id)| id.to_string()).collect();
    let defined = network_ids();
    let untested: Vec<_> = defined.difference(&tested).collect();
    let unknown: Vec<_> = tested.difference(&defined).collect();
    assert!(
        untested.is_empty(),
        "network rules without a positive test URL: {untested:?}"
    );
    assert!(
        unknown.is_empty(),
        "test table names rules that do not exist: {unknown:?}"
    );
}

#[test]
fn positive_urls_classify_with_the_expected_rule() {
    let rules = rules();
    let networks = entries(NETWORKS_TOML, "network");
    let by_id: BTreeMap<String, &toml::Table> = networks
        .iter()
        .map(|e| (string_field(e, "id").unwrap(), e))
        .collect();
    let mut failures = Vec::new();
    for (raw, id) in POSITIVES {
        let url = parse(raw);
        let Some(class) = rules.classify_link(&url, None, false) else {
            failures.push(format!("{raw}: expected `{id}`, got nothing"));
            continue;
        };
        if *class.rule_id != **id {
            failures.push(format!("{raw}: expected `{id}`, got `{}`", class.rule_id));
            continue;
        }
        let entry = by_id[*id];
        let name = string_field(entry, "name").unwrap();
        if *class.network != *name {
            failures.push(format!(
                "{raw}: network name `{}` != `{name}`",
                class.network
            ));
        }
        // When the rule names a destination parameter and the URL carries it, it is reported.
        if let Some(param) = string_field(entry, "destination_param") {
            let carried = url
                .query_pairs()
                .find(|(k, _)| k.eq_ignore_ascii_case(&param))
                .map(|(_, v)| v.into_owned())
                .filter(|v| !v.is_empty());
            if class.destination != carried {
                failures.push(format!(
                    "{raw}: destination {:?} != {carried:?}",
                    class.destination
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "positive URLs failed:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_destination_param_is_exercised() {
    for entry in entries(NETWORKS_TOML, "network") {
        let id = string_field(&entry, "id").unwrap();
        let Some(param) = string_field(&entry, "destination_param") else {
            continue;
        };
        let exercised = POSITIVES.iter().any(|(raw, rule)| {
            *rule == id
                && parse(raw)
                    .query_pairs()
                    .any(|(k, v)| k.eq_ignore_ascii_case(&param) && !v.is_empty())
        });
        assert!(
            exercised,
            "network `{id}`: no positive URL carries destination `{param}`"
        );
    }
}

#[test]
fn destinations_are_read_from_the_query() {
    let rules = rules();
    let cases = [
        (
            "https://www.awin1.com/cread.php?awinmid=1&awinaffid=2&ued=https%3A%2F%2Fshop.example%2Fa",
            "https://shop.example/a",
        ),
        (
            "https://go.skimresources.com?id=1X2&url=https%3A%2F%2Fshop.example%2Fb",
            "https://shop.example/b",
        ),
        (
            "https://click.linksynergy.com/deeplink?id=x&mid=1&murl=https%3A%2F%2Fshop.example%2Fc",
            "https://shop.example/c",
        ),
        (
            "https://redirect.viglink.com?key=k&u=https%3A%2F%2Fshop.example%2Fd",
            "https://shop.example/d",
        ),
        (
            "https://rover.ebay.com/rover/1/711-53200-19255-0/1?campid=1&mpre=https%3A%2F%2Fwww.ebay.com%2Fitm%2F1",
            "https://www.ebay.com/itm/1",
        ),
    ];
    for (raw, expected) in cases {
        let class = rules
            .classify_link(&parse(raw), None, false)
            .unwrap_or_else(|| panic!("{raw} must classify"));
        assert_eq!(class.destination.as_deref(), Some(expected), "{raw}");
    }
}

#[test]
fn negative_urls_are_not_affiliate() {
    let rules = rules();
    let matched: Vec<String> = NEGATIVES
        .iter()
        .filter_map(|raw| {
            rules
                .classify_link(&parse(raw), None, false)
                .map(|c| format!("{raw} -> `{}`", c.rule_id))
        })
        .collect();
    assert!(
        matched.is_empty(),
        "negative URLs matched:\n{}",
        matched.join("\n")
    );
}

#[test]
fn every_script_rule_has_a_positive_example() {
    let defined: BTreeSet<String> = entries(SCRIPTS_TOML, "script")
        .iter()
        .map(|e| string_field(e, "id").expect("script has an id"))
        .collect();
    let tested: BTreeSet<String> = SCRIPT_SRC_POSITIVES
        .iter()
        .chain(SCRIPT_INLINE_POSITIVES)
        .map(|(_, id)| id.to_string())
        .collect();
    let untested: Vec<_> = defined.difference(&tested).collect();
    let unknown: Vec<_> = tested.difference(&defined).collect();
    assert!(
        untested.is_empty(),
        "script rules without a positive test: {untested:?}"
    );
    assert!(
        unknown.is_empty(),
        "test table names scripts that do not exist: {unknown:?}"
    );
    // A rule with `src_hosts` is proven by a `src`, one with `inline` snippets by inline text.
    for entry in entries(SCRIPTS_TOML, "script") {
        let id = string_field(&entry, "id").unwrap();
        let has = |key: &str| {
            entry
                .get(key)
                .and_then(|v| v.as_array())
                .is_some_and(|a| !a.is_empty())
        };
        if has("src_hosts") {
            assert!(
                SCRIPT_SRC_POSITIVES.iter().any(|(_, s)| *s == id),
                "script `{id}` has src_hosts but no src example"
            );
        }
        if has("inline") {
            assert!(
                SCRIPT_INLINE_POSITIVES.iter().any(|(_, s)| *s == id),
                "script `{id}` has inline snippets but no inline example"
            );
        }
    }
}

#[test]
fn scripts_are_recognised_by_src_and_inline_text() {
    let rules = rules();
    let names: BTreeMap<String, String> = entries(SCRIPTS_TOML, "script")
        .iter()
        .map(|e| {
            (
                string_field(e, "id").unwrap(),
                string_field(e, "name").unwrap(),
            )
        })
        .collect();
    for (src, id) in SCRIPT_SRC_POSITIVES {
        assert_eq!(
            rules.script_by_src(&parse(src)),
            Some(names[*id].as_str()),
            "src {src} should be `{id}`"
        );
    }
    for (text, id) in SCRIPT_INLINE_POSITIVES {
        assert_eq!(
            rules.script_by_inline(text),
            Some(names[*id].as_str()),
            "inline {text:?} should be `{id}`"
        );
    }
}

#[test]
fn generic_scripts_are_not_monetization_scripts() {
    let rules = rules();
    for src in SCRIPT_SRC_NEGATIVES {
        assert_eq!(rules.script_by_src(&parse(src)), None, "src {src}");
    }
    for text in SCRIPT_INLINE_NEGATIVES {
        assert_eq!(rules.script_by_inline(text), None, "inline {text:?}");
    }
}
