// The front door: the pages, whoever comes; signed in, who you are (role and name in words) and
// the way to your own page. Signed out, the shell's 登录 comes back here.
"use strict";

const H = { name: null };

function drawWho() {
  const claims = GG.state.claims;
  const card = document.getElementById("home-who");
  card.hidden = !claims;
  if (!claims) return;
  document.getElementById("home-name").textContent = [GG.t(`role.${claims.role}`), H.name].filter(Boolean).join(" · ");
  document.getElementById("home-mine").href = GG.HOME_OF[claims.role] || "/";
}

// The name a person goes by: a rider's from its profile, staff's from the district's directory,
// a partner's from the district's partners; none (the role alone) for the others or on a refusal.
async function nameOf(claims) {
  const district = encodeURIComponent(GG.state.district || "");
  try {
    if (claims.role === "rider") return ((await GG.get(`/v1/riders/${claims.sub}`)).personal || {}).name;
    if (claims.role === "partner") {
      return ((await GG.get(`/v1/districts/${district}/partners`)).find(p => p.partner_id === claims.sub) || {}).name;
    }
    if (["grid_officer", "district_admin"].includes(claims.role)) {
      const { staff } = await GG.get(`/v1/districts/${district}/staff`);
      return (staff.find(member => member.staff_id === claims.sub) || {}).display_name;
    }
  } catch (e) { /* the role alone */ }
  return null;
}

GG.onLanguage(drawWho);
GG.start({
  roles: null, open: true,
  async start(claims) {
    drawWho();
    H.name = await nameOf(claims);
    if (H.name) GG.callMe(H.name);
    drawWho();
  },
});
