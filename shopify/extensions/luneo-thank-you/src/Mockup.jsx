// Luneo design mockup under each personalized line of the Thank you and Order status pages.
// Preact + Shopify's checkout web components (`s-*`); the line is the extension target's line.
import "@shopify/ui-extensions/preact";
import { render } from "preact";
import { linePreview } from "./previews.js";

export default async () => {
  render(<Mockup />, document.body);
};

function Mockup() {
  const line = shopify.target?.value;
  const preview = linePreview(line);
  if (!preview) return null;
  return (
    <s-stack direction="block" gap="small-200">
      <s-image src={preview.url} alt="Your personalized design" aspectRatio="1" inlineSize="fill" borderRadius="base" loading="lazy" />
      {preview.details.map((text) => (
        <s-text color="subdued">{text}</s-text>
      ))}
    </s-stack>
  );
}
