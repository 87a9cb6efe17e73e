/* botbuilder chat widget: placeholder until the widget lands. */
